//===- codegen/RuntimeSymbols.cpp - What generated code may call ----------===//
#include "codegen/RuntimeSymbols.h"

#include "codegen/KernelAbi.h"
#include "runtime/ThreadPool.h"

#include <cblas.h>

#include <atomic>
#include <cstring>

using gradc::codegen::KernelContext;

extern "C" void gradc_rt_fault(KernelContext *ctx, int32_t kernel) {
  // Kernels may run on several threads; the first fault is kept.
  std::atomic_ref<int32_t> fault(ctx->fault);
  int32_t none = 0;
  fault.compare_exchange_strong(none, kernel + 1);
}

extern "C" void gradc_rt_sgemm(int32_t transA, int32_t transB, int64_t m, int64_t n, int64_t k,
                               const float *a, int64_t lda, const float *b, int64_t ldb, float *c,
                               int64_t ldc) {
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
              static_cast<blasint>(m), static_cast<blasint>(n), static_cast<blasint>(k), 1.0f, a,
              static_cast<blasint>(lda), b, static_cast<blasint>(ldb), 0.0f, c,
              static_cast<blasint>(ldc));
}

namespace gradc::codegen {

const std::vector<RuntimeSymbol> &runtimeSymbols() {
  static const std::vector<RuntimeSymbol> symbols = {
      {"gradc_rt_fault", reinterpret_cast<void *>(&gradc_rt_fault)},
      {"gradc_rt_sgemm", reinterpret_cast<void *>(&gradc_rt_sgemm)},
      {"gradc_rt_parallel_for", reinterpret_cast<void *>(&gradc_rt_parallel_for)},
      {"memcpy", reinterpret_cast<void *>(&std::memcpy)},
      {"memmove", reinterpret_cast<void *>(&std::memmove)},
      {"memset", reinterpret_cast<void *>(&std::memset)},
  };
  return symbols;
}

} // namespace gradc::codegen
