//===- codegen/VectorMathImpl.h - Building blocks of codegen/VectorMath ---===//
//
// Shared by VectorMath.cpp (the function registry) and the files emitting
// each family's body (VectorMathExpLog.cpp, VectorMathTrig.cpp). MathBuilder
// wraps an IRBuilder positioned in the body of one math function and emits
// the same code whether the value type is float or a vector of float; every
// constant is splatted to that type. Nothing here is used outside
// codegen/VectorMath*.cpp.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <llvm/IR/IRBuilder.h>

#include <cstdint>
#include <initializer_list>

namespace gradc::codegen::vmath {

/// Emits float (or vector-of-float) arithmetic, integer views of the same
/// bits, and the allowed intrinsics. No method sets fast-math flags: the
/// approximations rely on exact IEEE rounding of every step.
class MathBuilder {
public:
  /// `ty` is float or a fixed vector of float; `b` inserts into the body.
  MathBuilder(llvm::IRBuilder<> &b, llvm::Type *ty);

  llvm::IRBuilder<> &b;
  llvm::Type *fty; ///< float or <N x float>
  llvm::Type *ity; ///< i32 or <N x i32>, the same bits as integers

  /// The constant `v` (rounded to float) splatted to the value type.
  llvm::Value *f(double v);
  /// The integer constant `v` splatted to the integer type.
  llvm::Value *i(int32_t v);

  llvm::Value *add(llvm::Value *x, llvm::Value *y) { return b.CreateFAdd(x, y); }
  llvm::Value *sub(llvm::Value *x, llvm::Value *y) { return b.CreateFSub(x, y); }
  llvm::Value *mul(llvm::Value *x, llvm::Value *y) { return b.CreateFMul(x, y); }
  llvm::Value *div(llvm::Value *x, llvm::Value *y) { return b.CreateFDiv(x, y); }
  llvm::Value *neg(llvm::Value *x) { return b.CreateFNeg(x); }
  /// x*y + z with one rounding (llvm.fma).
  llvm::Value *fma(llvm::Value *x, llvm::Value *y, llvm::Value *z);
  llvm::Value *fabs(llvm::Value *x);
  /// Round to the nearest integer, ties to even (llvm.rint: vroundps).
  llvm::Value *rint(llvm::Value *x);
  /// |x| with the sign of `sign` (llvm.copysign).
  llvm::Value *copysign(llvm::Value *x, llvm::Value *sign);
  /// c[0] + x*(c[1] + x*(c[2] + ...)) by Horner's rule with fma.
  llvm::Value *poly(llvm::Value *x, std::initializer_list<double> c);

  /// Comparisons. The ordered ones are false when either side is NaN,
  /// which the callers use to route NaN to a harmless value.
  llvm::Value *lt(llvm::Value *x, llvm::Value *y) { return b.CreateFCmpOLT(x, y); }
  llvm::Value *le(llvm::Value *x, llvm::Value *y) { return b.CreateFCmpOLE(x, y); }
  llvm::Value *gt(llvm::Value *x, llvm::Value *y) { return b.CreateFCmpOGT(x, y); }
  llvm::Value *eq(llvm::Value *x, llvm::Value *y) { return b.CreateFCmpOEQ(x, y); }
  llvm::Value *isNan(llvm::Value *x) { return b.CreateFCmpUNO(x, x); }
  llvm::Value *select(llvm::Value *c, llvm::Value *x, llvm::Value *y) { return b.CreateSelect(c, x, y); }

  /// The bits of a float value as integers, and back.
  llvm::Value *bits(llvm::Value *x) { return b.CreateBitCast(x, ity); }
  llvm::Value *fromBits(llvm::Value *n) { return b.CreateBitCast(n, fty); }
  /// Float to integer, truncating; callers pass integral values in range.
  llvm::Value *toInt(llvm::Value *x) { return b.CreateFPToSI(x, ity); }
  llvm::Value *toFloat(llvm::Value *n) { return b.CreateSIToFP(n, fty); }
  /// 2^n for integers n in [-126, 127], built from the exponent bits.
  llvm::Value *pow2(llvm::Value *n);
};

// --- Kernels shared between families (VectorMathExpLog.cpp) ----------------

/// expm1(r) for |r| <= ln2/2 (slightly more is fine): r + r^2 P(r).
llvm::Value *expm1Reduced(MathBuilder &m, llvm::Value *r);
/// exp(x) for every float x, NaN and infinities included.
llvm::Value *emitExp(MathBuilder &m, llvm::Value *x);
/// expm1(y) for 0 <= y <= 20 (tanh's argument range).
llvm::Value *emitExpm1Small(MathBuilder &m, llvm::Value *y);

// --- Function bodies, one per MathFn ---------------------------------------

llvm::Value *emitLog(MathBuilder &m, llvm::Value *x);
llvm::Value *emitLog1p(MathBuilder &m, llvm::Value *x);
llvm::Value *emitTanh(MathBuilder &m, llvm::Value *x);
llvm::Value *emitSigmoid(MathBuilder &m, llvm::Value *x);
/// sin(x) (`cosine` false) or cos(x) (`cosine` true).
llvm::Value *emitSinCos(MathBuilder &m, llvm::Value *x, bool cosine);

} // namespace gradc::codegen::vmath
