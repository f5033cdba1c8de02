//===- tests/unit/test_thread_pool.cpp - ThreadPool and AlignedBuffer -----===//
#include "runtime/AlignedBuffer.h"
#include "runtime/ThreadPool.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

using namespace gradc::runtime;

namespace {

using Chunk = std::pair<int64_t, int64_t>;

/// Runs one parallelFor over [0, n), checks that every iteration was visited
/// exactly once, and returns the chunks seen, sorted.
std::vector<Chunk> coverOnce(ThreadPool &pool, int64_t n, int64_t grain) {
  std::vector<int> visits(size_t(std::max<int64_t>(n, 0)), 0);
  std::vector<Chunk> chunks;
  std::mutex m;
  pool.parallelFor(n, grain, [&](int64_t begin, int64_t end) {
    // Chunks are disjoint, so each element has one writer.
    for (int64_t i = begin; i < end; ++i)
      ++visits[size_t(i)];
    std::lock_guard<std::mutex> lock(m);
    chunks.emplace_back(begin, end);
  });
  for (size_t i = 0; i < visits.size(); ++i)
    if (visits[i] != 1)
      FAIL("n=", n, " grain=", grain, " threads=", pool.size(), ": iteration ", i, " visited ",
           visits[i], " times");
  std::sort(chunks.begin(), chunks.end());
  return chunks;
}

/// The partition chunkCount/chunkBegin describe.
std::vector<Chunk> expectedChunks(const ThreadPool &pool, int64_t n, int64_t grain) {
  std::vector<Chunk> out;
  int64_t c = pool.chunkCount(n, grain);
  for (int64_t i = 0; i < c; ++i)
    out.emplace_back(ThreadPool::chunkBegin(n, c, i), ThreadPool::chunkBegin(n, c, i + 1));
  return out;
}

/// A plain C-style chunk function, as generated code passes: adds the
/// iteration indices of its chunk into *ctx.
void addIndices(void *ctx, int64_t begin, int64_t end) {
  int64_t sum = 0;
  for (int64_t i = begin; i < end; ++i)
    sum += i;
  static_cast<std::atomic<int64_t> *>(ctx)->fetch_add(sum);
}

} // namespace

TEST_CASE("ThreadPool: every iteration exactly once, in the documented chunks") {
  const int64_t ns[] = {0, 1, 2, 3, 5, 7, 16, 100, 1001, 100003};
  const int64_t grains[] = {0, 1, 2, 3, 8, 64, 100000, 1000000};
  for (int threads : {1, 2, 3, 4, 7}) {
    ThreadPool pool(threads);
    CHECK(pool.size() == threads);
    for (int64_t n : ns)
      for (int64_t grain : grains) {
        std::vector<Chunk> got = coverOnce(pool, n, grain);
        REQUIRE(got == expectedChunks(pool, n, grain));
        int64_t g = std::max<int64_t>(grain, 1);
        if (n > 0) {
          CHECK(got.size() <= size_t(threads));
          if (got.size() > 1)
            for (const Chunk &c : got)
              CHECK(c.second - c.first >= g);
          if (n <= g)
            CHECK(got == std::vector<Chunk>{{0, n}});
        } else {
          CHECK(got.empty());
        }
      }
  }
}

TEST_CASE("ThreadPool: 0 threads means the hardware's count") {
  ThreadPool pool(0);
  CHECK(pool.size() == int(std::max(1u, std::thread::hardware_concurrency())));
  CHECK(coverOnce(pool, 1000, 1) == expectedChunks(pool, 1000, 1));
}

TEST_CASE("ThreadPool: chunk boundaries are the same on every call") {
  ThreadPool pool(3);
  std::vector<Chunk> first = coverOnce(pool, 1000, 7);
  CHECK(first.size() == 3);
  for (int call = 0; call < 50; ++call)
    REQUIRE(coverOnce(pool, 1000, 7) == first);
  // chunkBegin spreads the remainder over the first chunks and ends at n.
  CHECK(ThreadPool::chunkBegin(10, 3, 0) == 0);
  CHECK(ThreadPool::chunkBegin(10, 3, 1) == 4);
  CHECK(ThreadPool::chunkBegin(10, 3, 2) == 7);
  CHECK(ThreadPool::chunkBegin(10, 3, 3) == 10);
  CHECK(ThreadPool::chunkBegin(INT64_MAX, 2, 2) == INT64_MAX);
}

TEST_CASE("ThreadPool: a parallelFor inside a body runs inline, in the same chunks") {
  ThreadPool pool(2);
  const int64_t outer = 8, inner = 100;
  std::vector<int> visits(size_t(outer * inner), 0);
  std::vector<std::vector<Chunk>> innerChunks(outer);
  pool.parallelFor(outer, 1, [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o)
      pool.parallelFor(inner, 10, [&](int64_t b, int64_t e) {
        innerChunks[size_t(o)].emplace_back(b, e);
        for (int64_t i = b; i < e; ++i)
          ++visits[size_t(o * inner + i)];
      });
  });
  for (int v : visits)
    REQUIRE(v == 1);
  // Serial and in order, with the partition an outer call would use.
  for (const std::vector<Chunk> &c : innerChunks)
    CHECK(c == expectedChunks(pool, inner, 10));
}

TEST_CASE("ThreadPool: a body's exception reaches the caller; the pool goes on") {
  ThreadPool pool(2);
  std::atomic<int> ran{0};
  // Every chunk throws; the first one thrown is rethrown after all ran.
  CHECK_THROWS_AS(pool.parallelFor(100, 1,
                                   [&](int64_t, int64_t) {
                                     ran.fetch_add(1);
                                     throw std::runtime_error("chunk failed");
                                   }),
                  std::runtime_error);
  CHECK(ran.load() == 2);
  // Only the second chunk throws, whichever thread runs it.
  ran = 0;
  CHECK_THROWS_WITH(pool.parallelFor(100, 1,
                                     [&](int64_t begin, int64_t) {
                                       ran.fetch_add(1);
                                       if (begin != 0)
                                         throw std::logic_error("second");
                                     }),
                    "second");
  CHECK(ran.load() == 2);
  // Inline (one chunk): the exception passes straight through.
  CHECK_THROWS_AS(pool.parallelFor(1, 1, [](int64_t, int64_t) { throw std::out_of_range("x"); }),
                  std::out_of_range);
  CHECK(coverOnce(pool, 1000, 1) == expectedChunks(pool, 1000, 1));
}

TEST_CASE("ThreadPool: gradc_rt_parallel_for with and without a pool") {
  const int64_t n = 12345, want = n * (n - 1) / 2;
  std::atomic<int64_t> sum{0};
  gradc_rt_parallel_for(nullptr, addIndices, &sum, n, 16);
  CHECK(sum.load() == want);
  sum = 0;
  gradc_rt_parallel_for(nullptr, addIndices, &sum, 0, 16);
  CHECK(sum.load() == 0);
  ThreadPool pool(2);
  for (int64_t grain : {1, 100, 100000}) {
    sum = 0;
    gradc_rt_parallel_for(&pool, addIndices, &sum, n, grain);
    CHECK(sum.load() == want);
  }
  sum = 0;
  pool.parallelFor(n, 1, addIndices, &sum);
  CHECK(sum.load() == want);
}

TEST_CASE("ThreadPool: construction and destruction, idle or just used") {
  for (int round = 0; round < 100; ++round) {
    ThreadPool pool(1 + round % 4);
    if (round % 2) {
      std::atomic<int64_t> sum{0};
      pool.parallelFor(64, 1, addIndices, &sum);
      REQUIRE(sum.load() == 64 * 63 / 2);
    }
  }
}

TEST_CASE("ThreadPool: many small consecutive calls") {
  ThreadPool pool(2);
  std::vector<int64_t> data(64, 0);
  auto start = std::chrono::steady_clock::now();
  for (int call = 0; call < 20000; ++call)
    pool.parallelFor(int64_t(data.size()), 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i)
        data[size_t(i)] += 1;
    });
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (int64_t v : data)
    REQUIRE(v == 20000);
  // About 1 µs a call when both threads are free; allow slow, shared
  // machines and sanitizers a wide margin.
  CHECK(seconds < 5.0);
}

TEST_CASE("ThreadPool: two threads calling one pool at once both finish") {
  ThreadPool pool(2);
  std::vector<int> a(5000, 0), b(5000, 0);
  auto fill = [&pool](std::vector<int> &v) {
    for (int round = 0; round < 200; ++round)
      pool.parallelFor(int64_t(v.size()), 1, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i)
          ++v[size_t(i)];
      });
  };
  std::thread other([&] { fill(b); });
  fill(a);
  other.join();
  for (size_t i = 0; i < a.size(); ++i)
    REQUIRE((a[i] == 200 && b[i] == 200));
}

#if defined(__x86_64__) || defined(__i386__)
TEST_CASE("ThreadPool: chunks run under the caller's floating-point controls") {
  ThreadPool pool(2);
  const unsigned saved = _mm_getcsr();
  const unsigned ftzDaz = 0x8040; // flush-to-zero, denormals-are-zero
  _mm_setcsr(saved | ftzDaz);
  std::atomic<bool> secondStarted{false};
  unsigned seen[2] = {0, 0};
  pool.parallelFor(2, 1, [&](int64_t begin, int64_t) {
    seen[begin] = _mm_getcsr() & 0xffc0;
    if (begin == 1) {
      secondStarted = true;
    } else {
      // Hold this chunk until the other one has started, so that the two
      // usually run on different threads (whichever takes which); past the
      // deadline the caller runs the other one itself.
      auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
      while (!secondStarted && std::chrono::steady_clock::now() < deadline)
        std::this_thread::yield();
    }
  });
  const unsigned want = (saved | ftzDaz) & 0xffc0;
  _mm_setcsr(saved);
  CHECK(seen[0] == want);
  CHECK(seen[1] == want);
}
#endif

TEST_CASE("ThreadPool: an idle pool sleeps") {
  // Counted by the pool itself rather than by process CPU time, which other
  // libraries' threads (OpenBLAS's spin too) would blur.
  for (int threads : {2, 4}) {
    ThreadPool pool(threads);
    std::atomic<int64_t> sum{0};
    pool.parallelFor(1000, 1, addIndices, &sum);
    auto start = std::chrono::steady_clock::now();
    auto deadline = start + std::chrono::seconds(2);
    while (pool.sleepingWorkers() < threads - 1 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    // About 0.2 ms; the margin is for machines where a thread may wait long
    // for a core.
    CHECK(pool.sleepingWorkers() == threads - 1);
    // A sleeping pool still answers at once.
    sum = 0;
    pool.parallelFor(1000, 1, addIndices, &sum);
    CHECK(sum.load() == 1000 * 999 / 2);
  }
}

TEST_CASE("AlignedBuffer: alignment, size and zeroing") {
  for (size_t bytes : {size_t(1), size_t(63), size_t(64), size_t(65), size_t(1000), size_t(1) << 20}) {
    AlignedBuffer buf(bytes);
    REQUIRE(buf.data() != nullptr);
    CHECK(reinterpret_cast<uintptr_t>(buf.data()) % AlignedBuffer::kAlignment == 0);
    CHECK(buf.size() == bytes);
    CHECK(buf.capacity() % AlignedBuffer::kAlignment == 0);
    CHECK(buf.capacity() >= bytes);
    CHECK(std::all_of(buf.data(), buf.data() + buf.capacity(),
                      [](std::byte b) { return b == std::byte{0}; }));
  }
  AlignedBuffer empty;
  CHECK(empty.empty());
  CHECK(empty.data() == nullptr);
  CHECK(AlignedBuffer(0).data() == nullptr);
}

TEST_CASE("AlignedBuffer: resize reuses or replaces, and zeroes on request") {
  AlignedBuffer buf(1000, false);
  std::fill(buf.data(), buf.data() + buf.size(), std::byte{0xAB});
  const std::byte *before = buf.data();
  buf.resize(600, true); // fits, and not wastefully large: kept
  CHECK(buf.data() == before);
  CHECK(buf.size() == 600);
  CHECK(std::all_of(buf.data(), buf.data() + 640, [](std::byte b) { return b == std::byte{0}; }));
  buf.resize(5000, true);
  CHECK(reinterpret_cast<uintptr_t>(buf.data()) % AlignedBuffer::kAlignment == 0);
  CHECK(buf.size() == 5000);
  CHECK(std::all_of(buf.data(), buf.data() + 5000, [](std::byte b) { return b == std::byte{0}; }));
  buf.resize(10, false); // far smaller: the memory goes back
  CHECK(buf.capacity() == 64);
  buf.resize(0, true);
  CHECK(buf.empty());
  CHECK(buf.data() == nullptr);
  // A size that cannot even be rounded up fails before allocating, and
  // leaves the buffer as it was.
  buf.resize(128, true);
  const std::byte *kept = buf.data();
  CHECK_THROWS_AS(buf.resize(SIZE_MAX - 3, true), std::bad_alloc);
  CHECK(buf.data() == kept);
  CHECK(buf.size() == 128);
  CHECK_THROWS_AS(AlignedBuffer(SIZE_MAX), std::bad_alloc);
}

TEST_CASE("AlignedBuffer: moves transfer ownership") {
  AlignedBuffer a(256);
  a.data()[7] = std::byte{42};
  const std::byte *p = a.data();
  AlignedBuffer b(std::move(a));
  CHECK(b.data() == p);
  CHECK(b.size() == 256);
  CHECK(b.data()[7] == std::byte{42});
  CHECK(a.data() == nullptr); // NOLINT(bugprone-use-after-move): moved-from is empty
  CHECK(a.size() == 0);
  AlignedBuffer c(64);
  c = std::move(b);
  CHECK(c.data() == p);
  CHECK(b.empty()); // NOLINT(bugprone-use-after-move)
  c = AlignedBuffer();
  CHECK(c.empty());
  static_assert(!std::is_copy_constructible_v<AlignedBuffer>);
  static_assert(!std::is_copy_assignable_v<AlignedBuffer>);
  static_assert(std::is_nothrow_move_constructible_v<AlignedBuffer>);
  static_assert(std::is_nothrow_move_assignable_v<AlignedBuffer>);
}
