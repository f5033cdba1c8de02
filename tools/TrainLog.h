//===- tools/TrainLog.h - What gradc train records, and how it shows it ---===//
//
// One row per epoch and split ("train", "val"): the loss, every metric the
// model declares, and the seconds the split took. The rows are written as
// the CSV of `--log` (epoch,split,loss,<metrics...>,seconds), kept in a
// checkpoint's metadata in that same form (so a resumed run's log and plot
// cover every epoch), and drawn as the SVG of `--plot`.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace gradc::tool {

struct EpochRow {
  int64_t epoch = 0; ///< from 1
  std::string split; ///< "train" or "val"
  double loss = 0;
  std::vector<double> metrics; ///< in TrainLog::metrics order
  double seconds = 0;
};

struct TrainLog {
  std::vector<std::string> metrics;
  std::vector<EpochRow> rows;

  /// The CSV text: a header line, then one line per row.
  std::string csv() const;
  /// Parses csv()'s text, for metrics `metrics`; nullopt with `error` set
  /// when the header or a row does not fit.
  static std::optional<TrainLog>
  parseCsv(const std::string &text, const std::vector<std::string> &metrics, std::string &error);
  /// Drops the rows of epochs after `epoch`.
  void truncate(int64_t epoch);
  /// An SVG drawing: the loss per epoch (training and validation) on the
  /// left, each metric on the right, titled `title`.
  std::string svg(const std::string &title) const;
};

} // namespace gradc::tool
