//===- codegen/VectorMathExpLog.cpp - exp, log, log1p, tanh, sigmoid ------===//
//
// The exponential family reduces x = n*ln2 + r with |r| <= ln2/2 (Cody-Waite
// with a two-part ln2 and fma, so the first step is exact) and evaluates
// expm1(r) = r + r^2 P(r) with a degree-5 P; exp scales 1 + expm1(r) by 2^n
// in two halves so that results overflow where the exact value does and
// subnormal results are computed, not flushed. tanh and sigmoid build on it.
//
// The logarithm splits x = 2^e * m with m in [sqrt(1/2), sqrt(2)) by integer
// arithmetic on the bits, and evaluates log(m) = log1p(f), f = m - 1, as
// 2*atanh(s) with s = f/(2+f), |s| <= 0.1716, in the form
// f - f^2/2 + s*(f^2/2 + T(s^2)), whose leading terms are exact or nearly so.
// log1p runs the same kernel on u = 1 + x, adding back the rounding error of
// that sum (exactly computable) to f.
//
// The polynomial coefficients are float32 near-minimax fits of our own
// (docs/vector-math.md shows how they were computed).
//
//===----------------------------------------------------------------------===//
#include "codegen/VectorMathImpl.h"

#include <limits>

namespace gradc::codegen::vmath {

using llvm::Value;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

// ln2 = kLn2Hi + kLn2Lo to about 48 bits: kLn2Hi is ln2 rounded to float
// (a multiple of 2^-21), kLn2Lo the float nearest to the rest.
constexpr double kLn2Hi = 0x1.62e43p-1;
constexpr double kLn2Lo = -0x1.05c61p-29;
constexpr double kLog2e = 0x1.715476p+0;
// ln2 = kLn2Hi16 + kLn2Lo16 to about 40 bits, kLn2Hi16 with 15 significant
// bits so that e*kLn2Hi16 is exact for any float exponent e.
constexpr double kLn2Hi16 = 0x1.62e4p-1;
constexpr double kLn2Lo16 = 0x1.7f7d1cp-20;

// The float bits of sqrt(1/2) rounded up: the lower end of the mantissa range.
constexpr int32_t kSqrtHalfBits = 0x3f3504f3;

/// The log kernel: log(2^e * (1 + f + fe)) for f in [sqrt(1/2) - 1,
/// sqrt(2) - 1] (a little outside is fine), fe a correction below half an ulp
/// of f (zero for log), and an integer e with |e| < 256.
Value *logKernel(MathBuilder &m, Value *f, Value *fe, Value *e) {
  // log1p(f) = 2 atanh(s), s = f/(2+f); 2 atanh(s) = 2s + s*T(s^2) and
  // 2s = f - s*f, which rearranges to f - h + s*(h + T) with h = f^2/2.
  Value *s = m.div(f, m.add(m.f(2.0), f));
  Value *z = m.mul(s, s);
  // T(z) = z*Q(z) ~ 2z/3 + 2z^2/5 + 2z^3/7 + ..., fitted on z <= 0.0296.
  Value *q = m.poly(z, {0x1.55557ap-1, 0x1.995eaep-2, 0x1.31e774p-2});
  Value *h = m.mul(m.mul(m.f(0.5), f), f);
  // w = h - s*(h + T): the small correction subtracted from f.
  Value *w = m.fma(m.neg(s), m.fma(z, q, h), h);
  // e*ln2 + f is the bulk: e*kLn2Hi16 is exact (8 + 15 bits) and, being 0
  // or larger than |f|, the Fast2Sum below recovers the rounding error of
  // adding f to it. Everything small then goes into one sum, and the result
  // rounds once more: about half an ulp plus the polynomial's share.
  Value *ef = m.toFloat(e);
  Value *big = m.mul(ef, m.f(kLn2Hi16));
  Value *sum = m.add(big, f);
  Value *sumErr = m.sub(f, m.sub(sum, big));
  // d log1p(f)/df = 1/(1 + f) ~ 1 - f: the first-order effect of fe.
  Value *feEffect = m.fma(m.neg(fe), f, fe);
  Value *small = m.fma(ef, m.f(kLn2Lo16), m.add(m.sub(feEffect, w), sumErr));
  return m.add(sum, small);
}

/// Splits a positive normal float u into 2^e * mr with mr in
/// [sqrt(1/2), sqrt(2)): returns mr and sets `e` (integer type). Any other
/// input gives some finite mr and e, which the callers' selects replace.
Value *splitMantissa(MathBuilder &m, Value *u, Value *&e) {
  // Subtracting the bits of sqrt(1/2) moves the binade boundary there: the
  // exponent field of the difference is e, its mantissa field plus those
  // bits again is mr's bit pattern.
  Value *ix = m.b.CreateSub(m.bits(u), m.i(kSqrtHalfBits));
  e = m.b.CreateAShr(ix, 23);
  Value *mant = m.b.CreateAnd(ix, m.i(0x007fffff));
  return m.fromBits(m.b.CreateAdd(mant, m.i(kSqrtHalfBits)));
}

} // namespace

Value *expm1Reduced(MathBuilder &m, Value *r) {
  // P(r) ~ (expm1(r) - r)/r^2 = 1/2 + r/6 + r^2/24 + ...; near-minimax for
  // the relative error of expm1 on |r| <= 0.3473.
  Value *p = m.poly(r, {0x1p-1, 0x1.555554p-3, 0x1.5554f8p-5, 0x1.1112d4p-7, 0x1.6d3a86p-10,
                        0x1.9e7d14p-13});
  return m.fma(m.mul(r, r), p, r);
}

/// x = n*ln2 + r: returns r and sets `n` (float, integral). The caller
/// bounds |x| <= 105, so the first fma is exact (where n != 0, |x| > 0.34,
/// so x and n*kLn2Hi are multiples of 2^-25 less than 1/2 apart) and r is
/// within half an ulp of x - n*ln2.
static Value *reduceLn2(MathBuilder &m, Value *x, Value *&n) {
  n = m.rint(m.mul(x, m.f(kLog2e)));
  Value *negN = m.neg(n);
  Value *r = m.fma(negN, m.f(kLn2Hi), x);
  return m.fma(negN, m.f(kLn2Lo), r);
}

Value *emitExp(MathBuilder &m, Value *x) {
  // Clamp into [-105, 89]: exp(-105) rounds to 0 and exp(89) overflows, so
  // the results at the ends are already right. NaN fails the ordered
  // compare and becomes -105, keeping the integer conversion defined; the
  // last select gives it back.
  Value *xc = m.select(m.gt(x, m.f(-105.0)), x, m.f(-105.0));
  xc = m.select(m.lt(xc, m.f(89.0)), xc, m.f(89.0));
  Value *n;
  Value *r = reduceLn2(m, xc, n);
  Value *p = expm1Reduced(m, r);
  // 2^n = 2^n1 * 2^n2 with n in [-151, 128] split so that both halves are
  // normal floats: (1 + p)*2^n1 rounds once (it is normal), and the product
  // with 2^n2 is exact unless it overflows or lands in the subnormal range,
  // where that multiplication rounds the way the exact result would.
  Value *ni = m.toInt(n);
  Value *n1 = m.b.CreateAShr(ni, 1);
  Value *n2 = m.b.CreateSub(ni, n1);
  Value *s1 = m.pow2(n1);
  Value *y = m.mul(m.fma(p, s1, s1), m.pow2(n2));
  return m.select(m.isNan(x), x, y);
}

Value *emitExpm1Small(MathBuilder &m, Value *y) {
  Value *n;
  Value *r = reduceLn2(m, y, n);
  Value *p = expm1Reduced(m, r);
  // expm1(y) = 2^n*(1 + p) - 1 = 2^n*p + (2^n - 1), rounded once; 2^n - 1
  // is exact for n <= 24, and for the larger n up to 29 (y <= 20) its
  // rounding is far below the result's ulp. For n = 0 this is p itself, so
  // small y keep their relative accuracy.
  Value *s = m.pow2(m.toInt(n));
  return m.fma(s, p, m.sub(s, m.f(1.0)));
}

Value *emitLog(MathBuilder &m, Value *x) {
  // Subnormal inputs (and zero and negatives, replaced below) are scaled by
  // 2^23 into the normal range first, and 23 is taken off their exponent.
  Value *sub = m.lt(x, m.f(0x1p-126));
  Value *xs = m.select(sub, m.mul(x, m.f(0x1p23)), x);
  Value *e;
  Value *mr = splitMantissa(m, xs, e);
  e = m.b.CreateAdd(e, m.select(sub, m.i(-23), m.i(0)));
  Value *y = logKernel(m, m.sub(mr, m.f(1.0)), m.f(0.0), e);
  // +inf -> +inf and NaN -> NaN (the ordered compare fails for both), then
  // ±0 -> -inf, x < 0 -> NaN.
  y = m.select(m.lt(x, m.f(kInf)), y, x);
  y = m.select(m.eq(x, m.f(0.0)), m.f(-kInf), y);
  return m.select(m.lt(x, m.f(0.0)), m.f(kNan), y);
}

Value *emitLog1p(MathBuilder &m, Value *x) {
  // u = 1 + x rounds; its error err = x - (u - 1) is exact (u - 1 is exact
  // for u < 2^24, and beyond that err no longer matters). With u = 2^e*mr,
  // 1 + x = 2^e*(mr + err*2^-e), so the kernel gets f = mr - 1 + err*2^-e.
  Value *u = m.add(m.f(1.0), x);
  Value *err = m.sub(x, m.sub(u, m.f(1.0)));
  Value *e;
  Value *mr = splitMantissa(m, u, e);
  // 2^-e needs e <= 126 to stay a normal float; for larger e (u >= 2^126)
  // the correction is far below the result's ulp anyway.
  Value *eScale = m.select(m.b.CreateICmpSGT(e, m.i(126)), m.i(126), e);
  Value *corr = m.mul(err, m.pow2(m.b.CreateNeg(eScale)));
  // f = f0 + corr rounds; Fast2Sum gives the part lost, for the kernel's fe
  // (|corr| is at most half an ulp of mr, so |f0| >= |corr| unless f0 = 0,
  // where the sum is exact).
  Value *f0 = m.sub(mr, m.f(1.0));
  Value *f = m.add(f0, corr);
  Value *fe = m.add(m.sub(f0, f), corr);
  Value *y = logKernel(m, f, fe, e);
  // ±0 -> ±0 (the sum above loses the sign of -0); +inf -> +inf and NaN ->
  // NaN; -1 -> -inf; x < -1 -> NaN.
  y = m.select(m.eq(x, m.f(0.0)), x, y);
  y = m.select(m.lt(x, m.f(kInf)), y, x);
  y = m.select(m.eq(x, m.f(-1.0)), m.f(-kInf), y);
  return m.select(m.lt(x, m.f(-1.0)), m.f(kNan), y);
}

Value *emitTanh(MathBuilder &m, Value *x) {
  // tanh(a) = t/(t + 2) with t = expm1(2a), a = |x|: no cancellation, and
  // for small a it is a*(1 + O(a)) with expm1's relative accuracy. tanh(a)
  // rounds to 1 for a > 9.01, so a is clamped to 10 (NaN too, restored last).
  Value *a = m.fabs(x);
  a = m.select(m.lt(a, m.f(10.0)), a, m.f(10.0));
  Value *t = emitExpm1Small(m, m.add(a, a));
  Value *y = m.copysign(m.div(t, m.add(t, m.f(2.0))), x);
  return m.select(m.isNan(x), x, y);
}

Value *emitSigmoid(MathBuilder &m, Value *x) {
  // With E = exp(-|x|) in [0, 1]: sigmoid(x) = 1/(1 + E) for x >= 0 and
  // E/(1 + E) for x < 0, so very negative x keep their relative accuracy
  // (sigmoid(x) ~ exp(x)) down to the subnormal range instead of computing
  // 1 - something. NaN gives E = NaN and so NaN.
  Value *E = emitExp(m, m.neg(m.fabs(x)));
  Value *num = m.select(m.lt(x, m.f(0.0)), E, m.f(1.0));
  return m.div(num, m.add(m.f(1.0), E));
}

} // namespace gradc::codegen::vmath
