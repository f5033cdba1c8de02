//===- runtime/ThreadPool.h - Low-latency parallel loops --------*- C++ -*-===//
//
// Generated kernels split their outermost loop across threads by calling
// gradc_rt_parallel_for, once per kernel per recurrence step: thousands of
// calls per forward pass, many over small loops. So the pool is built for the
// latency of one round trip rather than for throughput of long tasks:
//
//   - the calling thread takes part and claims chunks like any worker, so a
//     call never waits for a worker to wake up before work starts, and a
//     worker that wakes late finds the chunks taken and costs nothing;
//   - workers wait for a new job by spinning on the atomic word chunks are
//     claimed from (the next kernel usually comes within microseconds), then
//     sleep on a condition variable, so an idle pool burns no CPU;
//   - the caller waits on an atomic count of the chunks workers completed
//     (spinning, then sleeping).
//
// Chunk boundaries are a pure function of (n, grain, size()): a kernel that
// keeps one partial result per chunk (a reduction) gets the same partition,
// and so the same rounding, on every call, nested or not. Which thread runs
// which chunk is not fixed, but every chunk runs under the caller's
// floating-point control settings (x86 MXCSR: flush-to-zero, rounding), so
// its results do not depend on the thread either.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace gradc::runtime {

/// A chunk of a parallel loop as generated code sees it: run the iterations
/// [begin, end) with the kernel's context `ctx`.
using ChunkFn = void (*)(void *ctx, int64_t begin, int64_t end);

/// A fixed set of worker threads that runs parallel loops together with the
/// thread that asks for them. One loop runs at a time; a call made while the
/// pool is busy (a nested call from a body, or another thread's call) runs
/// its chunks inline on its own thread instead of waiting.
class ThreadPool {
public:
  /// `threads` workers in total including the calling thread (threads - 1
  /// are started); 0 or less means std::thread::hardware_concurrency() (1
  /// where that is unknown). Throws std::system_error if a thread cannot be
  /// started, after joining the ones that were.
  explicit ThreadPool(int threads = 0);
  /// Wakes and joins the workers. Must not run while a parallelFor is in
  /// progress on another thread.
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  /// The most chunks one loop is split into (the claim word's 32-bit field).
  static constexpr int64_t kMaxChunks = INT32_MAX;

  /// The number of threads that run a loop, the caller included.
  int size() const { return size_; }

  /// Runs body(begin, end) over [0, n) in chunkCount(n, grain) chunks of at
  /// least `grain` iterations (grain < 1 counts as 1), the calling thread
  /// taking part; returns when every chunk is done. n <= 0 calls nothing.
  /// A single chunk (n < 2 * grain, or size() == 1) is body(0, n), called
  /// inline with no synchronization. A call made from inside a body (of
  /// this pool or any other), or while another thread's call holds this
  /// pool, runs the same chunks one after another on the calling thread.
  /// An exception thrown by a body is captured and rethrown on the caller
  /// once every chunk has finished (the first one thrown wins); the pool
  /// stays usable. On the inline paths an exception propagates at once and
  /// later chunks do not run.
  void parallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)> &body);

  /// The same with a plain function and its context, as generated code
  /// passes them: fn(ctx, begin, end) per chunk, with no std::function.
  void parallelFor(int64_t n, int64_t grain, ChunkFn fn, void *ctx);

  /// How many chunks parallelFor(n, grain, ...) splits [0, n) into: 0 for
  /// n <= 0, otherwise min(size(), max(1, n / grain), kMaxChunks). A kernel
  /// that keeps one partial result per chunk sizes its scratch with this.
  int64_t chunkCount(int64_t n, int64_t grain) const;

  /// The first iteration of chunk `i` of `chunks` over [0, n); chunk i is
  /// [chunkBegin(n, chunks, i), chunkBegin(n, chunks, i + 1)). Chunks differ
  /// in length by at most one, the longer ones first.
  static int64_t chunkBegin(int64_t n, int64_t chunks, int64_t i);

  /// How many workers are asleep (blocked, using no CPU) right now. An idle
  /// pool reaches size() - 1 within a fraction of a millisecond of its last
  /// call; a diagnostic for tests and benchmarks.
  int sleepingWorkers() const { return sleepers_.load(std::memory_order_relaxed); }

private:
  /// The parallel path: publishes the job, runs chunks, waits, rethrows.
  void runParallel(int64_t n, int64_t chunks, ChunkFn fn, void *ctx);
  /// Runs chunk i of the current job, capturing its exception.
  void runChunk(int64_t i);
  /// Claims and runs chunks of the current job until none is left; returns
  /// how many this thread ran.
  int64_t runChunks();
  /// A worker thread's life: wait for a claimable chunk, run chunks, repeat
  /// until stop_.
  void workerLoop();
  /// Sets stop_, wakes every worker and joins them all.
  void stopWorkers();
  /// Wakes sleeping workers after a job was published.
  void wakeWorkers();
  /// Returns once `target` chunks run by workers have completed.
  void waitForWorkers(int64_t target);

  int size_ = 1;
  std::vector<std::thread> workers_;

  // The current job. Written by the caller only when every chunk of the
  // previous job has completed; read by a thread only after it claimed a
  // chunk of this job, which keeps the job from completing meanwhile.
  ChunkFn fn_ = nullptr;
  void *ctx_ = nullptr;
  int64_t n_ = 0;
  int64_t chunks_ = 0;
  unsigned fpControl_ = 0;   ///< the caller's floating-point control bits
  std::exception_ptr error_; ///< written by the thread that set failed_

  // Cache lines are grouped by who writes them on every call, so that a
  // thread spinning on one line is not disturbed by writes to another.
  /// The claim word: (chunk count << 32) | next chunk to claim. A chunk is
  /// claimable while next < count; claiming is a compare-and-swap to next+1.
  alignas(64) std::atomic<uint64_t> claim_{0};
  /// Chunks of the current job that workers (not the caller) completed.
  alignas(64) std::atomic<int64_t> done_{0};
  /// Set while one call owns the pool; other calls run inline.
  alignas(64) std::atomic<bool> busy_{false};
  /// Set by the first chunk that throws in the current job.
  std::atomic<bool> failed_{false};
  // Read on every spin or call, written only when a thread goes to sleep,
  // wakes up, or the pool stops.
  alignas(64) std::atomic<bool> stop_{false};
  std::atomic<int> sleepers_{0};           ///< workers blocked on wakeCv_
  std::atomic<bool> callerSleeping_{false}; ///< the caller is blocked on doneCv_
  alignas(64) std::mutex mutex_;
  std::condition_variable wakeCv_; ///< workers wait here for a job or stop_
  std::condition_variable doneCv_; ///< the caller waits here for done_
};

} // namespace gradc::runtime

extern "C" {
/// The entry point generated code calls: fn(ctx, begin, end) over [0, n) in
/// chunks of at least `grain` iterations, on `pool` (a
/// gradc::runtime::ThreadPool *), or inline as fn(ctx, 0, n) when pool is
/// null. Same semantics as ThreadPool::parallelFor (generated code cannot
/// throw; a C++ fn that throws behaves as a throwing parallelFor body).
void gradc_rt_parallel_for(void *pool, void (*fn)(void *ctx, int64_t begin, int64_t end), void *ctx,
                           int64_t n, int64_t grain);
}
