//===- codegen/VectorMathTrig.cpp - sin and cos ---------------------------===//
//
// Both reduce a = |x| to a = q*(pi/2) + r with q the integer nearest to
// a*(2/pi) and |r| <= pi/4, then pick sin(r) or cos(r) and a sign by q mod 4
// (and, for sin, x's sign, sin being odd).
//
// The reduction is exact enough for every a <= kTrigMaxArgument = 2^24:
//  - q is the nearest integer even where a*(2/pi) rounds across a half: the
//    remainder a*(2/pi) - q, computed to about 2^-25 with fma and a two-part
//    2/pi, moves q by one where needed;
//  - pi/2 = P1 + P2 + P3 (three floats, 75 bits), and r = a - q*P1 is exact
//    (a and q*P1 are multiples of 2^-23 less than 1.25 apart, or where
//    a < 1 multiples of 2^-24 less than 1 apart), the two further fma steps
//    round once each on a value already of r's magnitude.
// 2^24 is a round bound below 2^24*pi/2, where q stops fitting a float's
// significand and this reduction ends. Beyond it the functions return NaN
// rather than a value with no correct digits; for ±inf and NaN too, as C.
//
// sin(r) = r + r^3 S(r^2), cos(r) = 1 - r^2/2 + r^4 C(r^2), each with a
// degree-2 polynomial: float32 near-minimax fits of our own for |r| <= pi/4
// (docs/vector-math.md).
//
//===----------------------------------------------------------------------===//
#include "codegen/VectorMath.h"
#include "codegen/VectorMathImpl.h"

#include <limits>

namespace gradc::codegen::vmath {

using llvm::Value;

namespace {

// 2/pi = k2OverPiHi + k2OverPiLo to about 50 bits.
constexpr double k2OverPiHi = 0x1.45f306p-1;
constexpr double k2OverPiLo = 0x1.b9391p-26;
// pi/2 = kPio2A + kPio2B + kPio2C to about 75 bits; kPio2A is a multiple of
// 2^-23, so q*kPio2A is a multiple of 2^-23 for integral q.
constexpr double kPio2A = 0x1.921fb6p+0;
constexpr double kPio2B = -0x1.777a5cp-25;
constexpr double kPio2C = -0x1.ee59dap-50;

} // namespace

Value *emitSinCos(MathBuilder &m, Value *x, bool cosine) {
  Value *a = m.fabs(x);
  // In the domain: a <= 2^24 (false for NaN). Everything else runs the code
  // with a = 0, so that no conversion sees an out-of-range value, and gets
  // NaN at the end.
  Value *inDomain = m.le(a, m.f(kTrigMaxArgument));
  a = m.select(inDomain, a, m.f(0.0));

  // q = the integer nearest to a*(2/pi): round the float product, then
  // d = a*(2/pi) - q to about 2^-25 (the inner fma is a*hi - q rounded once)
  // lies in [-1/2 - eps, 1/2 + eps] and rounds to -1, 0 or 1 only where the
  // product's rounding moved q.
  Value *q = m.rint(m.mul(a, m.f(k2OverPiHi)));
  Value *d = m.fma(a, m.f(k2OverPiLo), m.fma(a, m.f(k2OverPiHi), m.neg(q)));
  q = m.add(q, m.rint(d));

  // r = a - q*pi/2.
  Value *negQ = m.neg(q);
  Value *r = m.fma(negQ, m.f(kPio2A), a);
  r = m.fma(negQ, m.f(kPio2B), r);
  r = m.fma(negQ, m.f(kPio2C), r);

  Value *z = m.mul(r, r);
  // sin(r) ~ r + r^3 S(z), S ~ -1/6 + z/120 - z^2/5040.
  Value *sinR = m.fma(m.mul(r, z), m.poly(z, {-0x1.555544p-3, 0x1.1106c6p-7, -0x1.991bf4p-13}), r);
  // cos(r) ~ 1 + z*(-1/2 + z C(z)), C ~ 1/24 - z/720 + z^2/40320.
  Value *cosC = m.poly(z, {0x1.55554ap-5, -0x1.6c0c26p-10, 0x1.99e714p-16});
  Value *cosR = m.fma(z, m.fma(z, cosC, m.f(-0.5)), m.f(1.0));

  // With k = q mod 4 (q + 1 for cos, since cos(a) = sin(a + pi/2)), sin(a)
  // is sin(r), cos(r), -sin(r), -cos(r) for k = 0, 1, 2, 3: bit 0 picks the
  // polynomial, bit 1 the sign.
  Value *k = m.toInt(q);
  if (cosine)
    k = m.b.CreateAdd(k, m.i(1));
  Value *useCos = m.b.CreateICmpNE(m.b.CreateAnd(k, m.i(1)), m.i(0));
  Value *y = m.select(useCos, cosR, sinR);
  Value *sign = m.b.CreateShl(m.b.CreateAnd(k, m.i(2)), 30);
  if (!cosine) // sin(-a) = -sin(a), -0 included
    sign = m.b.CreateXor(sign, m.b.CreateAnd(m.bits(x), m.i(INT32_MIN)));
  y = m.fromBits(m.b.CreateXor(m.bits(y), sign));
  return m.select(inDomain, y, m.f(std::numeric_limits<double>::quiet_NaN()));
}

} // namespace gradc::codegen::vmath
