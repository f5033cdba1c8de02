//===- codegen/VectorMath.h - Vectorizable float math as LLVM IR ----------===//
//
// Generated kernels are loops over float32 tensors that LLVM's loop vectorizer
// turns into 8-wide AVX2 code. A call to libm (expf, logf, ...) stops that, so
// gradc emits its own approximations as LLVM IR functions: straight-line code
// (selects, no branches) whose only calls are intrinsics that lower to single
// x86-64 AVX2/FMA instructions (llvm.fma, llvm.fabs, llvm.rint,
// llvm.copysign). They have internal linkage and `alwaysinline`, so the
// inliner folds them into the loop before the vectorizer runs, and the scalar
// and vector variants give bit-identical results.
//
// Accuracy, special values and domain limits are documented in
// docs/vector-math.md and checked by tests/unit/test_vector_math.cpp. In
// short, measured over all 2^32 floats: exp, log, log1p within 1 ulp of the
// exact result; tanh, sigmoid within 2.5 ulp; sin, cos within 1.6 ulp for
// |x| <= 8192 and 2.5 ulp for |x| <= kTrigMaxArgument = 2^24, NaN beyond.
// Subnormal arguments and results are computed, not flushed, which assumes
// the IEEE default floating-point environment (MXCSR without flush-to-zero /
// denormals-are-zero). The results do not depend on FMA contraction of the
// surrounding code: every multiply-add whose rounding matters is an explicit
// llvm.fma. The target must have FMA (any x86-64 with AVX2 does); without it
// llvm.fma becomes a call to libm's fmaf.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

namespace gradc::codegen {

/// The functions gradc computes itself; each matches C's float function:
/// expf, logf, log1pf, tanhf, 1/(1+expf(-x)), sinf, cosf.
enum class MathFn { Exp, Log, Log1p, Tanh, Sigmoid, Sin, Cos };

/// sin and cos reduce their argument accurately up to this magnitude (2^24,
/// a round bound below 2^24*pi/2, where the quadrant count stops fitting a
/// float's 24-bit significand); beyond it (and for ±inf and NaN) they return
/// NaN.
inline constexpr float kTrigMaxArgument = 16777216.0f;

/// The function computing `fn` elementwise on `ty` (float, or a fixed vector
/// of float such as <8 x float>) in module `m`, created on first use (named
/// "gradc.exp.f32", "gradc.exp.v8f32", ...) and reused afterwards: internal
/// linkage, alwaysinline, one basic block, no calls except llvm.fma,
/// llvm.fabs, llvm.rint and llvm.copysign.
llvm::Function *getMathFunction(llvm::Module &m, MathFn fn, llvm::Type *ty);

/// Convenience: emits a call of getMathFunction(module, fn, x's type) at the
/// builder's position and returns its result.
llvm::Value *emitMath(llvm::IRBuilder<> &b, MathFn fn, llvm::Value *x);

/// The documented maximum error of a function, for docs and tests.
/// `maxUlp`: the largest error in units in the last place of the exact
/// result (a correctly rounded result is within 0.5; the ulp of a subnormal
/// result is 2^-149), over every float argument (for sin and cos: every
/// |x| <= kTrigMaxArgument). `maxAbs`: the absolute error bound this implies,
/// |result - exact| <= maxAbs, for the functions with bounded results (log,
/// log1p, tanh, sigmoid, sin, cos); 0 for exp, whose results are unbounded.
struct MathErrorBound {
  const char *name;
  double maxUlp;
  double maxAbs;
};

/// The documented maximum error of `fn`; see MathErrorBound.
MathErrorBound errorBound(MathFn fn);

/// The function's short name ("exp", "log", "log1p", "tanh", "sigmoid",
/// "sin", "cos"), as used in the emitted functions' names.
const char *mathFnName(MathFn fn);

} // namespace gradc::codegen
