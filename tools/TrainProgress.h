//===- tools/TrainProgress.h - gradc train's progress bar ------------------===//
//
// On a terminal, a line on stderr redrawn at most ten times a second:
//
//   epoch 2/10 [#########...........] 212/468  8123 ex/s  ETA 0:03  loss 0.4321
//
// and erased when the epoch ends, so the epoch's summary line takes its
// place. When stderr is not a terminal (a log file, CI), nothing is drawn:
// the summary lines alone are the record.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <chrono>
#include <cstdint>

namespace gradc::tool {

class TrainProgress {
public:
  /// Draws only when `enabled` and stderr is a terminal.
  explicit TrainProgress(bool enabled);
  void startEpoch(int64_t epoch, int64_t epochs, int64_t steps, int64_t batch);
  /// After step `done` (from 1), with the epoch's mean loss so far.
  void step(int64_t done, double meanLoss);
  /// Erases the bar.
  void finish();

private:
  using Clock = std::chrono::steady_clock;
  bool draw_ = false, shown_ = false;
  int64_t epoch_ = 0, epochs_ = 0, steps_ = 0, batch_ = 0;
  Clock::time_point start_, lastDraw_;
};

} // namespace gradc::tool
