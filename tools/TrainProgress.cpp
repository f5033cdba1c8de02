//===- tools/TrainProgress.cpp - gradc train's progress bar ----------------===//
#include "tools/TrainProgress.h"

#include <cstdio>
#include <string>
#include <unistd.h>

namespace gradc::tool {

TrainProgress::TrainProgress(bool enabled) : draw_(enabled && ::isatty(STDERR_FILENO)) {}

void TrainProgress::startEpoch(int64_t epoch, int64_t epochs, int64_t steps, int64_t batch) {
  epoch_ = epoch;
  epochs_ = epochs;
  steps_ = steps;
  batch_ = batch;
  start_ = lastDraw_ = Clock::now();
}

void TrainProgress::step(int64_t done, double meanLoss) {
  if (!draw_)
    return;
  Clock::time_point now = Clock::now();
  if (done < steps_ && now - lastDraw_ < std::chrono::milliseconds(100))
    return;
  lastDraw_ = now;
  double secs = std::chrono::duration<double>(now - start_).count();
  double rate = secs > 0 ? static_cast<double>(done * batch_) / secs : 0;
  int64_t eta =
      done > 0 ? static_cast<int64_t>(
                     secs / static_cast<double>(done) * static_cast<double>(steps_ - done) + 0.5)
               : 0;
  constexpr int kWidth = 24;
  int filled = static_cast<int>(kWidth * done / (steps_ > 0 ? steps_ : 1));
  std::string bar(static_cast<size_t>(filled), '#');
  bar.append(static_cast<size_t>(kWidth - filled), '.');
  std::fprintf(stderr,
               "\repoch %lld/%lld [%s] %lld/%lld  %.0f ex/s  ETA %lld:%02lld  loss %.4f\x1b[K",
               static_cast<long long>(epoch_), static_cast<long long>(epochs_), bar.c_str(),
               static_cast<long long>(done), static_cast<long long>(steps_), rate,
               static_cast<long long>(eta / 60), static_cast<long long>(eta % 60), meanLoss);
  std::fflush(stderr);
  shown_ = true;
}

void TrainProgress::finish() {
  if (!shown_)
    return;
  std::fprintf(stderr, "\r\x1b[K");
  std::fflush(stderr);
  shown_ = false;
}

} // namespace gradc::tool
