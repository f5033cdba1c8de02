//===- codegen/KernelAbi.h - What generated code and the runtime share ----===//
//
// Generated code and the C++ runtime meet in two places: the context every
// generated function receives, and the runtime functions generated code
// calls (resolved in the JIT to the addresses below, never to whatever a
// process happens to export).
//
//   entry:   void gradc_forward(KernelContext *), void gradc_backward(...)
//   kernel:  void <equation name>(KernelContext *, int64_t begin, int64_t end)
//            runs the iterations [begin, end) of its outermost loop, so that
//            gradc_rt_parallel_for can split it across the thread pool.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>

namespace gradc::codegen {

/// The state of one run, passed by pointer to every generated function.
/// Field order is part of the ABI (codegen/Emitter.cpp builds the same
/// struct type in LLVM IR).
struct KernelContext {
  char *arena = nullptr;     ///< the executable's arena (MemoryPlan offsets)
  void **leaves = nullptr;   ///< one pointer per leaf (MemoryPlan::leaves())
  int64_t *steps = nullptr;  ///< the current step of each recurrence
  void *pool = nullptr;      ///< runtime::ThreadPool, or null to run inline
  int32_t fault = 0;         ///< 1 + the id of the first kernel that faulted
  /// Code compiled with EmitOptions::profile adds each kernel call's
  /// duration in nanoseconds here, by kernel id.
  int64_t *ticks = nullptr;
};

/// Entry points' symbol names.
inline constexpr const char *kForwardEntry = "gradc_forward";
inline constexpr const char *kBackwardEntry = "gradc_backward";

} // namespace gradc::codegen

extern "C" {
/// Records that kernel `kernel` met an out-of-range indirect index (the
/// first fault wins); the entry function stops after that kernel.
void gradc_rt_fault(gradc::codegen::KernelContext *ctx, int32_t kernel);
/// A monotonic clock in nanoseconds, for profiling code.
int64_t gradc_rt_now();
/// C = op(A)·op(B) in row-major storage (float32), as cblas_sgemm with
/// alpha 1 and beta 0; trans* nonzero reads the transposed matrix. A large
/// product is split into blocks of rows (or columns) run on the thread pool
/// `pool` (may be null), each a single-threaded OpenBLAS call.
void gradc_rt_sgemm(void *pool, int32_t transA, int32_t transB, int64_t m, int64_t n, int64_t k,
                    const float *a, int64_t lda, const float *b, int64_t ldb, float *c,
                    int64_t ldc);
}
