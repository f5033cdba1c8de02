//===- runtime/LrSchedule.h - Learning-rate schedules of gradc train -------===//
//
// `gradc train --lr-schedule SPEC` (DESIGN.md), with SPEC one of
//
//   constant          the optimizer's rate throughout (the default)
//   step:EVERY:F      the rate divided by F after every EVERY epochs:
//                     lr0 / F^floor(epoch / EVERY) (step:10:2 halves it
//                     every 10 epochs; torch's StepLR with gamma = 1/F)
//   plateau:F         the rate divided by F after an epoch whose loss does
//                     not improve on the best so far (the lecture's rule)
//
// F > 1 and EVERY >= 1; anything else is an error saying what was expected.
// The schedule's whole state (the best loss so far and the current rate) is
// two numbers a checkpoint stores.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

namespace gradc::runtime {

class LrSchedule {
public:
  enum class Kind { Constant, Step, Plateau };

  /// Parses SPEC for a base rate `lr0`; nullopt with `error` set if malformed.
  static std::optional<LrSchedule> parse(const std::string &spec, double lr0, std::string &error);

  /// The rate for epoch `epoch` (from 0).
  double rate(int64_t epoch) const;
  /// Reports epoch `epoch`'s loss (a NaN never improves); returns the rate
  /// for the next epoch.
  double endEpoch(int64_t epoch, double loss);

  /// What a checkpoint saves and restores.
  struct State {
    double best = std::numeric_limits<double>::infinity();
    double current = 0;
  };
  State state() const { return state_; }
  void setState(State s) { state_ = s; }

  Kind kind() const { return kind_; }
  std::string describe() const;

private:
  Kind kind_ = Kind::Constant;
  double lr0_ = 0, factor_ = 1;
  int64_t every_ = 1;
  State state_;
};

} // namespace gradc::runtime
