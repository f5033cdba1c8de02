//===- runtime/LrSchedule.cpp - Learning-rate schedules of gradc train -----===//
#include "runtime/LrSchedule.h"

#include "support/ParseNumber.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <sstream>

namespace gradc::runtime {

namespace {

/// A finite number > 1, or nullopt.
std::optional<double> factorOf(const std::string &s) {
  char *end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !std::isfinite(v) || !(v > 1))
    return std::nullopt;
  return v;
}

} // namespace

std::optional<LrSchedule> LrSchedule::parse(const std::string &spec, double lr0,
                                            std::string &error) {
  LrSchedule s;
  s.lr0_ = lr0;
  s.state_.current = lr0;
  auto bad = [&](const std::string &why) -> std::optional<LrSchedule> {
    error = "--lr-schedule " + spec + ": " + why;
    return std::nullopt;
  };
  if (spec == "constant")
    return s;
  if (spec.rfind("step:", 0) == 0) {
    std::string rest = spec.substr(5);
    size_t colon = rest.find(':');
    if (colon == std::string::npos)
      return bad("expected step:EVERY:FACTOR (step:10:2 halves the rate every 10 epochs)");
    std::optional<uint64_t> e = parseCount(std::string_view(rest).substr(0, colon));
    if (!e || *e < 1 || *e > uint64_t(std::numeric_limits<int64_t>::max()))
      return bad("EVERY must be a whole number of epochs, at least 1");
    std::optional<double> f = factorOf(rest.substr(colon + 1));
    if (!f)
      return bad("FACTOR must be a number above 1 (the rate is divided by it)");
    s.kind_ = Kind::Step;
    s.every_ = static_cast<int64_t>(*e);
    s.factor_ = *f;
    return s;
  }
  if (spec.rfind("plateau:", 0) == 0) {
    std::optional<double> f = factorOf(spec.substr(8));
    if (!f)
      return bad("FACTOR must be a number above 1 (the rate is divided by it)");
    s.kind_ = Kind::Plateau;
    s.factor_ = *f;
    return s;
  }
  return bad("expected constant, step:EVERY:FACTOR or plateau:FACTOR");
}

double LrSchedule::rate(int64_t epoch) const {
  switch (kind_) {
  case Kind::Constant:
    return lr0_;
  case Kind::Step:
    return lr0_ / std::pow(factor_, static_cast<double>(epoch / every_));
  case Kind::Plateau:
    return state_.current;
  }
  return lr0_;
}

double LrSchedule::endEpoch(int64_t epoch, double loss) {
  if (kind_ == Kind::Plateau) {
    if (loss < state_.best) // false for NaN: a NaN epoch never improves
      state_.best = loss;
    else
      state_.current /= factor_;
  }
  state_.current = rate(epoch + 1);
  return state_.current;
}

std::string LrSchedule::describe() const {
  std::ostringstream os;
  switch (kind_) {
  case Kind::Constant:
    os << "constant";
    break;
  case Kind::Step:
    os << "step:" << every_ << ":" << factor_;
    break;
  case Kind::Plateau:
    os << "plateau:" << factor_;
    break;
  }
  return os.str();
}

} // namespace gradc::runtime
