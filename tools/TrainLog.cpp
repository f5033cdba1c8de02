//===- tools/TrainLog.cpp - What gradc train records, and how it shows it -===//
#include "tools/TrainLog.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

namespace gradc::tool {

namespace {

/// Shortest text that reads back as the same double.
std::string exact(double v) {
  char buf[40];
  for (int digits = 6; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (std::strtod(buf, nullptr) == v || std::isnan(v))
      break;
  }
  return buf;
}

std::vector<std::string> splitLine(const std::string &line) {
  std::vector<std::string> out;
  std::string cell;
  std::istringstream is(line);
  while (std::getline(is, cell, ','))
    out.push_back(cell);
  if (!line.empty() && line.back() == ',')
    out.emplace_back();
  return out;
}

std::optional<double> number(const std::string &s) {
  if (s.empty())
    return std::nullopt;
  char *end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (*end)
    return std::nullopt;
  return v;
}

} // namespace

std::string TrainLog::csv() const {
  std::string out = "epoch,split,loss";
  for (const std::string &m : metrics)
    out += "," + m;
  out += ",seconds\n";
  for (const EpochRow &r : rows) {
    out += std::to_string(r.epoch) + "," + r.split + "," + exact(r.loss);
    for (double m : r.metrics)
      out += "," + exact(m);
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.3f", r.seconds);
    out += std::string(",") + secs + "\n";
  }
  return out;
}

std::optional<TrainLog> TrainLog::parseCsv(const std::string &text,
                                           const std::vector<std::string> &metrics,
                                           std::string &error) {
  TrainLog log;
  log.metrics = metrics;
  std::istringstream is(text);
  std::string line;
  std::string header = log.csv();
  header.pop_back(); // the header alone, without its newline
  if (!std::getline(is, line) || line != header) {
    error = "its training log does not have the columns " + header;
    return std::nullopt;
  }
  for (int n = 2; std::getline(is, line); ++n) {
    std::vector<std::string> cells = splitLine(line);
    EpochRow r;
    bool ok = cells.size() == metrics.size() + 4;
    std::optional<double> epoch = ok ? number(cells[0]) : std::nullopt;
    ok = ok && epoch && *epoch >= 1 && *epoch == std::floor(*epoch) &&
         (cells[1] == "train" || cells[1] == "val");
    for (size_t i = 2; ok && i < cells.size(); ++i)
      ok = number(cells[i]).has_value() || cells[i] == "nan" || cells[i] == "-nan";
    if (!ok) {
      error = "line " + std::to_string(n) + " of its training log is malformed: " + line;
      return std::nullopt;
    }
    auto value = [&](size_t i) {
      return number(cells[i]).value_or(std::numeric_limits<double>::quiet_NaN());
    };
    r.epoch = static_cast<int64_t>(*epoch);
    r.split = cells[1];
    r.loss = value(2);
    for (size_t i = 0; i < metrics.size(); ++i)
      r.metrics.push_back(value(3 + i));
    r.seconds = value(cells.size() - 1);
    log.rows.push_back(std::move(r));
  }
  return log;
}

void TrainLog::truncate(int64_t epoch) {
  std::erase_if(rows, [&](const EpochRow &r) { return r.epoch > epoch; });
}

//===----------------------------------------------------------------------===//
// The plot
//===----------------------------------------------------------------------===//

namespace {

std::string escapeXml(const std::string &s) {
  std::string out;
  for (char c : s) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '"')
      out += "&quot;";
    else
      out += c;
  }
  return out;
}

std::string fmt(double v, const char *f = "%.4g") {
  char buf[32];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

/// Where the legend's first row sits below a panel's frame.
constexpr double kLegendTop = 56;

/// One line of a panel: (epoch, value) points, a colour and a dash pattern.
struct Series {
  std::string label, colour;
  bool dashed = false;
  std::vector<std::pair<double, double>> points;
};

/// A panel at (x0, y0) of size w × h with axes, ticks, a legend and its lines.
void drawPanel(std::ostringstream &os, double x0, double y0, double w, double h,
               const std::string &title, const std::vector<Series> &series) {
  double xmin = 1, xmax = 1, ymin = std::numeric_limits<double>::infinity(),
         ymax = -std::numeric_limits<double>::infinity();
  for (const Series &s : series)
    for (auto [x, y] : s.points) {
      xmax = std::max(xmax, x);
      ymin = std::min(ymin, y);
      ymax = std::max(ymax, y);
    }
  if (!(ymin <= ymax)) { // no finite point
    ymin = 0;
    ymax = 1;
  }
  if (ymax - ymin < 1e-12 * std::max(1.0, std::fabs(ymax))) {
    double pad = std::max(std::fabs(ymax) * 0.1, 1e-3);
    ymin -= pad;
    ymax += pad;
  }
  double pad = (ymax - ymin) * 0.05;
  ymin -= pad;
  ymax += pad;
  if (xmax == xmin) {
    xmin -= 0.5;
    xmax += 0.5;
  }
  auto px = [&](double x) { return x0 + (x - xmin) / (xmax - xmin) * w; };
  auto py = [&](double y) { return y0 + h - (y - ymin) / (ymax - ymin) * h; };

  os << "<text x=\"" << x0 + w / 2 << "\" y=\"" << y0 - 12
     << "\" text-anchor=\"middle\" font-size=\"14\">" << escapeXml(title) << "</text>\n";
  os << "<rect x=\"" << x0 << "\" y=\"" << y0 << "\" width=\"" << w << "\" height=\"" << h
     << "\" fill=\"none\" stroke=\"#444\"/>\n";
  for (int i = 0; i <= 4; ++i) { // value ticks and grid lines
    double v = ymin + (ymax - ymin) * i / 4, y = py(v);
    os << "<line x1=\"" << x0 << "\" y1=\"" << y << "\" x2=\"" << x0 + w << "\" y2=\"" << y
       << "\" stroke=\"#ddd\"/>\n";
    os << "<text x=\"" << x0 - 6 << "\" y=\"" << y + 4 << "\" text-anchor=\"end\" font-size=\"11\">"
       << fmt(v) << "</text>\n";
  }
  int64_t first = static_cast<int64_t>(std::ceil(xmin)), last = static_cast<int64_t>(xmax);
  int64_t step = std::max<int64_t>(1, (last - first + 1 + 9) / 10);
  for (int64_t e = first; e <= last; e += step)
    os << "<text x=\"" << px(static_cast<double>(e)) << "\" y=\"" << y0 + h + 16
       << "\" text-anchor=\"middle\" font-size=\"11\">" << e << "</text>\n";
  os << "<text x=\"" << x0 + w / 2 << "\" y=\"" << y0 + h + 34
     << "\" text-anchor=\"middle\" font-size=\"12\">epoch</text>\n";

  // The legend goes under the axis, two entries a row, where no curve runs.
  int entry = 0;
  for (const Series &s : series) {
    if (s.points.empty())
      continue;
    std::string dash = s.dashed ? " stroke-dasharray=\"6,4\"" : "";
    os << "<polyline fill=\"none\" stroke=\"" << s.colour << "\" stroke-width=\"2\"" << dash
       << " points=\"";
    for (auto [x, y] : s.points)
      os << fmt(px(x), "%.1f") << "," << fmt(py(y), "%.1f") << " ";
    os << "\"/>\n";
    for (auto [x, y] : s.points)
      os << "<circle cx=\"" << fmt(px(x), "%.1f") << "\" cy=\"" << fmt(py(y), "%.1f")
         << "\" r=\"3\" fill=\"" << s.colour << "\"/>\n";
    double lx = x0 + (entry % 2) * (w / 2), ly = y0 + h + kLegendTop + (entry / 2) * 18.0;
    os << "<line x1=\"" << lx << "\" y1=\"" << ly - 4 << "\" x2=\"" << lx + 24 << "\" y2=\""
       << ly - 4 << "\" stroke=\"" << s.colour << "\" stroke-width=\"2\"" << dash << "/>\n";
    os << "<text x=\"" << lx + 30 << "\" y=\"" << ly << "\" font-size=\"12\">" << escapeXml(s.label)
       << "</text>\n";
    ++entry;
  }
}

} // namespace

std::string TrainLog::svg(const std::string &title) const {
  static const char *colours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"};
  auto seriesOf = [&](const std::string &split, int metric, const std::string &label,
                      const std::string &colour) {
    Series s{label, colour, split == "val", {}};
    for (const EpochRow &r : rows) {
      double v = metric < 0 ? r.loss : r.metrics[static_cast<size_t>(metric)];
      if (r.split == split && std::isfinite(v))
        s.points.emplace_back(static_cast<double>(r.epoch), v);
    }
    return s;
  };
  std::vector<Series> loss = {seriesOf("train", -1, "training", colours[0]),
                              seriesOf("val", -1, "validation", colours[1])};
  std::vector<Series> mets;
  for (size_t m = 0; m < metrics.size(); ++m) {
    const char *c = colours[(m + 2) % 6];
    mets.push_back(seriesOf("train", static_cast<int>(m), metrics[m] + " (training)", c));
    mets.push_back(seriesOf("val", static_cast<int>(m), metrics[m] + " (validation)", c));
  }
  bool twoPanels = !metrics.empty();
  double width = twoPanels ? 960 : 500;
  // Room for the taller of the two legends (two entries a row).
  size_t rows = (std::max(loss.size(), mets.size()) + 1) / 2;
  double height = 70 + 310 + kLegendTop + 18.0 * static_cast<double>(rows) + 6;
  std::ostringstream os;
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
     << "\" font-family=\"sans-serif\">\n";
  os << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  os << "<text x=\"" << width / 2
     << "\" y=\"22\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">"
     << escapeXml(title) << "</text>\n";
  drawPanel(os, 70, 70, 400, 310, "loss", loss);
  if (twoPanels)
    drawPanel(os, 550, 70, 380, 310, "metrics", mets);
  os << "</svg>\n";
  return os.str();
}

} // namespace gradc::tool
