//===- runtime/ThreadPool.cpp - Low-latency parallel loops ----------------===//
//
// The protocol between the caller and the workers, in full:
//
//   caller (owns the pool via busy_)        worker
//   -----------------------------------     -----------------------------------
//   write fn_, ctx_, n_, chunks_,           wait until claim_ has a chunk left
//     done_ = 0, failed_ = false            CAS claim_ from (c, i) to (c, i+1)
//   claim_ = (chunks, 1): job published,    read the job, run chunk i
//     chunk 0 claimed by the caller         done_ += 1 (wake caller if asleep)
//   wake sleepers if any                    repeat while a chunk is left
//   run chunk 0, claim and run the rest
//   wait until done_ == chunks - own
//   rethrow error_ if any
//
// A thread reads the job only after its compare-and-swap claimed a chunk,
// and the job cannot complete (so the caller cannot rewrite it) before that
// chunk is counted in done_. The claim word names no job: a worker that
// loaded it during one job and succeeds with it during a later one claims
// chunk i of the later job and reads the later job, which is what it should
// do. A worker that wakes after every chunk was claimed costs nothing.
//
// Both sleeps use the same pattern to avoid a lost wakeup: the sleeper
// announces itself (sleepers_ / callerSleeping_), then checks its condition
// under mutex_ before waiting; the waker changes the condition, then reads
// the announcement (both sides sequentially consistent) and, if set, takes
// mutex_ before notifying.
//
//===----------------------------------------------------------------------===//
#include "runtime/ThreadPool.h"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

namespace gradc::runtime {

namespace {

// How long waiting threads spin before they sleep. On the VMs gradc runs on
// (measured on the 2-core Firecracker machines), waking a thread that sleeps
// on a futex costs the waker ~25 us inside notify and the sleeper ~250 us
// before it runs (bare metal is usually far quicker). A worker that fell asleep
// thus costs the next call tens of microseconds and leaves the caller alone
// for the calls after it, so workers keep spinning across the gaps between
// a forward pass's kernels, and still go quiet well within a millisecond of
// the last call.
/// An idle worker's spin before it sleeps.
constexpr std::chrono::nanoseconds kWorkerSpin = std::chrono::microseconds(200);
/// The caller's spin while workers finish their chunks before it sleeps:
/// longer, since it waits on work in progress, not on work that may never
/// come.
constexpr std::chrono::nanoseconds kCallerSpin = std::chrono::microseconds(1000);
/// Past this much spinning a waiting thread also yields its core every few
/// rounds, so that a pool with more threads than cores still makes progress.
constexpr std::chrono::nanoseconds kPauseOnly = std::chrono::microseconds(100);

/// True on the pool's workers always, and on a caller while it runs chunks:
/// a parallelFor issued there runs inline instead of waiting on a pool that
/// may be waiting on it.
thread_local bool tlsInsideParallelRegion = false;

/// Tells the CPU this is a spin-wait loop: saves power and lets the sibling
/// hyperthread run, and avoids the memory-order mis-speculation penalty on
/// leaving the loop.
inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

/// Spins until ready() holds or `budget` has passed; returns whether it
/// holds. The clock is read only every 64 rounds (about 1.5 us), since
/// reading it costs more than a round.
template <class Ready> bool spinFor(Ready ready, std::chrono::nanoseconds budget) {
  auto start = std::chrono::steady_clock::now();
  for (unsigned round = 1;; ++round) {
    if (ready())
      return true;
    cpuRelax();
    if (round % 64 == 0) {
      auto spent = std::chrono::steady_clock::now() - start;
      if (spent > budget)
        return false;
      if (spent > kPauseOnly)
        std::this_thread::yield();
    }
  }
}

// The SSE control bits (flush-to-zero, denormals-are-zero, rounding, masks)
// without the sticky status flags. A chunk runs under the caller's settings
// whichever thread runs it, so that its results do not depend on the thread.
#if defined(__x86_64__) || defined(__i386__)
constexpr unsigned kMxcsrControl = 0xffc0;
unsigned readFpControl() { return _mm_getcsr() & kMxcsrControl; }
void adoptFpControl(unsigned control) {
  unsigned now = _mm_getcsr();
  if ((now & kMxcsrControl) != control)
    _mm_setcsr((now & ~kMxcsrControl) | control);
}
#else
unsigned readFpControl() { return 0; }
void adoptFpControl(unsigned) {}
#endif

/// Adapts a std::function body to the ChunkFn form used internally.
void callFunction(void *body, int64_t begin, int64_t end) {
  (*static_cast<const std::function<void(int64_t, int64_t)> *>(body))(begin, end);
}

} // namespace

ThreadPool::ThreadPool(int threads) {
  if (threads <= 0)
    threads = int(std::max(1u, std::thread::hardware_concurrency()));
  size_ = threads;
  workers_.reserve(size_t(threads - 1));
  try {
    for (int i = 1; i < threads; ++i)
      workers_.emplace_back([this] { workerLoop(); });
  } catch (...) {
    // A thread could not be started: stop the ones that were, then report.
    stopWorkers();
    throw;
  }
}

ThreadPool::~ThreadPool() { stopWorkers(); }

void ThreadPool::stopWorkers() {
  stop_.store(true);
  // Notify whether or not anyone sleeps, after taking the mutex: a worker
  // between its predicate check and its wait holds the mutex, so it cannot
  // miss this.
  {
    std::lock_guard<std::mutex> lock(mutex_);
  }
  wakeCv_.notify_all();
  for (std::thread &t : workers_)
    t.join();
  workers_.clear();
}

int64_t ThreadPool::chunkCount(int64_t n, int64_t grain) const {
  if (n <= 0)
    return 0;
  grain = std::max<int64_t>(grain, 1);
  return std::min<int64_t>({int64_t(size_), std::max<int64_t>(1, n / grain), kMaxChunks});
}

int64_t ThreadPool::chunkBegin(int64_t n, int64_t chunks, int64_t i) {
  // The first n % chunks chunks get one extra iteration. Written without
  // i * n so that it cannot overflow for any n.
  int64_t q = n / chunks, r = n % chunks;
  return q * i + std::min(i, r);
}

void ThreadPool::parallelFor(int64_t n, int64_t grain,
                             const std::function<void(int64_t, int64_t)> &body) {
  parallelFor(n, grain, callFunction, const_cast<void *>(static_cast<const void *>(&body)));
}

void ThreadPool::parallelFor(int64_t n, int64_t grain, ChunkFn fn, void *ctx) {
  int64_t chunks = chunkCount(n, grain);
  if (chunks == 0)
    return;
  if (chunks == 1) {
    fn(ctx, 0, n);
    return;
  }
  // Nested in a body, or another thread holds the pool: the same chunks,
  // serially, so that the partition does not depend on who else is running.
  if (tlsInsideParallelRegion || busy_.exchange(true, std::memory_order_acquire)) {
    for (int64_t i = 0; i < chunks; ++i)
      fn(ctx, chunkBegin(n, chunks, i), chunkBegin(n, chunks, i + 1));
    return;
  }
  runParallel(n, chunks, fn, ctx);
}

void ThreadPool::runParallel(int64_t n, int64_t chunks, ChunkFn fn, void *ctx) {
  fn_ = fn;
  ctx_ = ctx;
  n_ = n;
  chunks_ = chunks;
  fpControl_ = readFpControl();
  error_ = nullptr;
  failed_.store(false, std::memory_order_relaxed);
  done_.store(0, std::memory_order_relaxed);
  // Publishing, with chunk 0 already claimed by the caller (one atomic
  // operation fewer on the line the workers spin on). The release half
  // orders the job's fields before it; the sequentially consistent half
  // pairs with sleeping workers' sleepers_.
  claim_.store(uint64_t(chunks) << 32 | 1, std::memory_order_seq_cst);
  wakeWorkers();

  tlsInsideParallelRegion = true;
  runChunk(0);
  int64_t own = 1 + runChunks();
  tlsInsideParallelRegion = false;
  waitForWorkers(chunks - own);

  std::exception_ptr error = std::move(error_);
  error_ = nullptr;
  busy_.store(false, std::memory_order_release);
  if (error)
    std::rethrow_exception(error);
}

void ThreadPool::runChunk(int64_t i) {
  try {
    fn_(ctx_, chunkBegin(n_, chunks_, i), chunkBegin(n_, chunks_, i + 1));
  } catch (...) {
    // Keep going: the caller rethrows only after every chunk is done, so
    // that no chunk is still writing when the exception surfaces.
    if (!failed_.exchange(true, std::memory_order_relaxed))
      error_ = std::current_exception();
  }
}

int64_t ThreadPool::runChunks() {
  int64_t ran = 0;
  uint64_t word = claim_.load(std::memory_order_acquire);
  while ((word & 0xffffffffu) < (word >> 32)) {
    if (!claim_.compare_exchange_weak(word, word + 1, std::memory_order_acquire,
                                      std::memory_order_acquire))
      continue; // `word` now holds the current value
    int64_t i = int64_t(word & 0xffffffffu);
    adoptFpControl(fpControl_);
    runChunk(i);
    ++ran;
    // The last chunk claimed means none is left: skip the cache-line trip
    // of looking again.
    if (i + 1 == int64_t(word >> 32))
      break;
    word = claim_.load(std::memory_order_acquire);
  }
  return ran;
}

void ThreadPool::wakeWorkers() {
  if (sleepers_.load(std::memory_order_seq_cst) == 0)
    return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
  }
  wakeCv_.notify_all();
}

void ThreadPool::waitForWorkers(int64_t target) {
  auto done = [&] { return done_.load(std::memory_order_seq_cst) == target; };
  if (spinFor(done, kCallerSpin))
    return;
  callerSleeping_.store(true, std::memory_order_seq_cst);
  {
    std::unique_lock<std::mutex> lock(mutex_);
    doneCv_.wait(lock, done);
  }
  callerSleeping_.store(false, std::memory_order_relaxed);
}

void ThreadPool::workerLoop() {
  tlsInsideParallelRegion = true;
  // A chunk to claim, or the pool is stopping. Sequentially consistent, as
  // the other half of runParallel()'s "publish, then read sleepers_" (a
  // plain load on x86, so spinning costs no more).
  auto ready = [this] {
    uint64_t word = claim_.load(std::memory_order_seq_cst);
    return (word & 0xffffffffu) < (word >> 32) || stop_.load(std::memory_order_relaxed);
  };
  for (;;) {
    if (!spinFor(ready, kWorkerSpin)) {
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wakeCv_.wait(lock, ready);
      }
      sleepers_.fetch_sub(1, std::memory_order_relaxed);
    }
    if (stop_.load(std::memory_order_relaxed))
      return;
    int64_t ran = runChunks();
    if (ran == 0)
      continue; // the chunks were taken before this worker got there
    // Release: the chunks' writes (and error_) happen before the caller's
    // read of done_. The caller's wait is rare; look only if it sleeps.
    done_.fetch_add(ran, std::memory_order_seq_cst);
    if (callerSleeping_.load(std::memory_order_seq_cst)) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
      }
      doneCv_.notify_one();
    }
  }
}

} // namespace gradc::runtime

extern "C" void gradc_rt_parallel_for(void *pool, void (*fn)(void *ctx, int64_t begin, int64_t end),
                                      void *ctx, int64_t n, int64_t grain) {
  if (!pool) {
    if (n > 0)
      fn(ctx, 0, n);
    return;
  }
  static_cast<gradc::runtime::ThreadPool *>(pool)->parallelFor(n, grain, fn, ctx);
}
