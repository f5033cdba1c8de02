//===- codegen/RuntimeSymbols.cpp - What generated code may call ----------===//
#include "codegen/RuntimeSymbols.h"

#include "codegen/KernelAbi.h"
#include "runtime/ThreadPool.h"

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <atomic>
#include <cstring>

using gradc::codegen::KernelContext;

extern "C" void gradc_rt_fault(KernelContext *ctx, int32_t kernel) {
  // Kernels may run on several threads; the first fault is kept.
  std::atomic_ref<int32_t> fault(ctx->fault);
  int32_t none = 0;
  fault.compare_exchange_strong(none, kernel + 1);
}

namespace {

struct GemmCall {
  bool transA, transB, byRows;
  int64_t m, n, k, lda, ldb, ldc, chunks;
  const float *a, *b;
  float *c;
};

void sgemmBlock(const GemmCall &g, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
  // Rows m0..m1 of C come from rows m0..m1 of op(A); columns n0..n1 from
  // columns n0..n1 of op(B).
  const float *a = g.a + (g.transA ? m0 : m0 * g.lda);
  const float *b = g.b + (g.transB ? n0 * g.ldb : n0);
  cblas_sgemm(CblasRowMajor, g.transA ? CblasTrans : CblasNoTrans,
              g.transB ? CblasTrans : CblasNoTrans, static_cast<blasint>(m1 - m0),
              static_cast<blasint>(n1 - n0), static_cast<blasint>(g.k), 1.0f, a,
              static_cast<blasint>(g.lda), b, static_cast<blasint>(g.ldb), 0.0f,
              g.c + m0 * g.ldc + n0, static_cast<blasint>(g.ldc));
}

void sgemmChunks(void *ctx, int64_t begin, int64_t end) {
  const GemmCall &g = *static_cast<const GemmCall *>(ctx);
  // Blocks are multiples of 16 rows or columns, OpenBLAS's kernel widths.
  int64_t extent = g.byRows ? g.m : g.n;
  auto at = [&](int64_t i) { return std::min(extent, (extent * i / g.chunks + 15) / 16 * 16); };
  for (int64_t i = begin; i < end; ++i) {
    int64_t lo = at(i), hi = at(i + 1);
    if (lo >= hi)
      continue;
    if (g.byRows)
      sgemmBlock(g, lo, hi, 0, g.n);
    else
      sgemmBlock(g, 0, g.m, lo, hi);
  }
}

} // namespace

extern "C" void gradc_rt_sgemm(void *pool, int32_t transA, int32_t transB, int64_t m, int64_t n,
                               int64_t k, const float *a, int64_t lda, const float *b, int64_t ldb,
                               float *c, int64_t ldc) {
  // OpenBLAS runs single-threaded: gradc's pool splits the product, so that
  // one set of threads owns the cores (two would fight over them).
  static const bool single = [] {
    openblas_set_num_threads(1);
    return true;
  }();
  (void)single;
  auto *tp = static_cast<gradc::runtime::ThreadPool *>(pool);
  int threads = tp ? tp->size() : 1;
  GemmCall g{transA != 0, transB != 0, m >= n, m, n, k, lda, ldb, ldc, threads, a, b, c};
  // Below ~1 MFLOP per thread a split costs more than it saves.
  if (threads == 1 || m * n * k < (int64_t(1) << 20) * threads || std::max(m, n) < 32) {
    sgemmBlock(g, 0, m, 0, n);
    return;
  }
  tp->parallelFor(threads, 1, &sgemmChunks, &g);
}

extern "C" int64_t gradc_rt_now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

namespace gradc::codegen {

const std::vector<RuntimeSymbol> &runtimeSymbols() {
  static const std::vector<RuntimeSymbol> symbols = {
      {"gradc_rt_fault", reinterpret_cast<void *>(&gradc_rt_fault)},
      {"gradc_rt_sgemm", reinterpret_cast<void *>(&gradc_rt_sgemm)},
      {"gradc_rt_now", reinterpret_cast<void *>(&gradc_rt_now)},
      {"gradc_rt_parallel_for", reinterpret_cast<void *>(&gradc_rt_parallel_for)},
      {"memcpy", reinterpret_cast<void *>(&std::memcpy)},
      {"memmove", reinterpret_cast<void *>(&std::memmove)},
      {"memset", reinterpret_cast<void *>(&std::memset)},
  };
  return symbols;
}

} // namespace gradc::codegen
