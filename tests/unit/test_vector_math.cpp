//===- tests/unit/test_vector_math.cpp - gradc's own float math -----------===//
//
// JIT-compiles the functions of codegen/VectorMath.h (scalar and <8 x float>)
// and compares them with libm in double precision: every 4096th float bit
// pattern, dense samples where the functions are hard (around 0 and 1, the
// overflow and underflow thresholds, near multiples of pi/2), the worst
// arguments of the exhaustive run (docs/vector-math.md) and the special
// values. The 8-wide variant must agree bit for bit with the scalar one, the
// bodies must be straight-line code calling only cheap intrinsics, and a loop
// calling them at O2 must come out vectorized with the same results.
//
//===----------------------------------------------------------------------===//
#include "codegen/VectorMath.h"

#include <doctest/doctest.h>

#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/IntrinsicInst.h>
#include <llvm/IR/Verifier.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>
#include <llvm/TargetParser/SubtargetFeature.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <numbers>
#include <string>
#include <vector>

using namespace gradc::codegen;

namespace {

using ApplyFn = void (*)(const float *, float *, int64_t);

const MathFn kAllFns[] = {MathFn::Exp,     MathFn::Log, MathFn::Log1p, MathFn::Tanh,
                          MathFn::Sigmoid, MathFn::Sin, MathFn::Cos};

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNan = std::numeric_limits<float>::quiet_NaN();

float fromBits(uint32_t b) { return std::bit_cast<float>(b); }
uint32_t toBits(float x) { return std::bit_cast<uint32_t>(x); }

/// Emits `void name(const float *in, float *out, i64 n)` computing
/// out[i] = fn(in[i]) for i < n, `width` elements (1 or a vector) per step;
/// n must be a multiple of `width`.
void buildApply(llvm::Module &m, MathFn fn, unsigned width, const std::string &name) {
  llvm::LLVMContext &ctx = m.getContext();
  llvm::Type *f32 = llvm::Type::getFloatTy(ctx);
  llvm::Type *i64 = llvm::Type::getInt64Ty(ctx);
  llvm::Type *ptr = llvm::PointerType::get(ctx, 0);
  llvm::Type *ty = width > 1 ? llvm::FixedVectorType::get(f32, width) : f32;
  auto *fnTy = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptr, ptr, i64}, false);
  auto *f = llvm::Function::Create(fnTy, llvm::GlobalValue::ExternalLinkage, name, m);
  // Distinct buffers: lets the O2 test's loops vectorize without alias checks.
  f->addParamAttr(0, llvm::Attribute::NoAlias);
  f->addParamAttr(1, llvm::Attribute::NoAlias);
  auto *entry = llvm::BasicBlock::Create(ctx, "entry", f);
  auto *loop = llvm::BasicBlock::Create(ctx, "loop", f);
  auto *exit = llvm::BasicBlock::Create(ctx, "exit", f);
  llvm::IRBuilder<> b(entry);
  b.CreateCondBr(b.CreateICmpSGT(f->getArg(2), b.getInt64(0)), loop, exit);
  b.SetInsertPoint(loop);
  llvm::PHINode *i = b.CreatePHI(i64, 2, "i");
  i->addIncoming(b.getInt64(0), entry);
  llvm::Value *x = b.CreateAlignedLoad(ty, b.CreateGEP(f32, f->getArg(0), i), llvm::Align(4));
  b.CreateAlignedStore(emitMath(b, fn, x), b.CreateGEP(f32, f->getArg(1), i), llvm::Align(4));
  llvm::Value *next = b.CreateAdd(i, b.getInt64(width));
  i->addIncoming(next, loop);
  b.CreateCondBr(b.CreateICmpSLT(next, f->getArg(2)), loop, exit);
  b.SetInsertPoint(exit);
  b.CreateRetVoid();
}

std::string applyName(MathFn fn, unsigned width) {
  return std::string("apply_") + mathFnName(fn) + "_" + std::to_string(width);
}

std::unique_ptr<llvm::orc::LLJIT> makeJit() {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  auto jtmb = llvm::cantFail(llvm::orc::JITTargetMachineBuilder::detectHost());
  return llvm::cantFail(llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(jtmb)).create());
}

/// The apply functions of every MathFn, scalar and 8-wide, compiled from the
/// IR exactly as emitted (no IR optimization), built once for all tests.
class MathJit {
public:
  static MathJit &get() {
    static MathJit jit;
    return jit;
  }
  ApplyFn scalar(MathFn fn) { return lookup(applyName(fn, 1)); }
  ApplyFn vector8(MathFn fn) { return lookup(applyName(fn, 8)); }

private:
  MathJit() : jit_(makeJit()) {
    auto ctx = std::make_unique<llvm::LLVMContext>();
    auto mod = std::make_unique<llvm::Module>("vector_math_test", *ctx);
    mod->setDataLayout(jit_->getDataLayout());
    for (MathFn fn : kAllFns) {
      buildApply(*mod, fn, 1, applyName(fn, 1));
      buildApply(*mod, fn, 8, applyName(fn, 8));
    }
    REQUIRE_FALSE(llvm::verifyModule(*mod, &llvm::errs()));
    llvm::cantFail(jit_->addIRModule(llvm::orc::ThreadSafeModule(std::move(mod), std::move(ctx))));
  }
  ApplyFn lookup(const std::string &name) {
    return llvm::cantFail(jit_->lookup(name)).toPtr<ApplyFn>();
  }
  std::unique_ptr<llvm::orc::LLJIT> jit_;
};

/// Runs `apply` (scalar, or vector with `width` 8) on `in`, padding to a
/// multiple of the width.
std::vector<float> run(ApplyFn apply, const std::vector<float> &in, size_t width) {
  size_t n = (in.size() + width - 1) / width * width;
  std::vector<float> x(in), y(n);
  x.resize(n, 1.0f);
  apply(x.data(), y.data(), int64_t(n));
  y.resize(in.size());
  return y;
}

/// The exact result, to double precision (glibc's double functions are
/// within an ulp of a double, 2^-29 of a float ulp).
double reference(MathFn fn, double x) {
  switch (fn) {
  case MathFn::Exp:
    return std::exp(x);
  case MathFn::Log:
    return std::log(x);
  case MathFn::Log1p:
    return std::log1p(x);
  case MathFn::Tanh:
    return std::tanh(x);
  case MathFn::Sigmoid:
    return 1.0 / (1.0 + std::exp(-x));
  case MathFn::Sin:
    return std::sin(x);
  case MathFn::Cos:
    return std::cos(x);
  }
  return 0;
}

/// The error of `got` in units in the last place of the exact result `exact`
/// (the float spacing at |exact|, 2^-149 in the subnormal range); a correctly
/// rounded result is within 0.5. Infinity where the kinds differ (NaN against
/// a number, an overflow against a finite result).
double ulpError(float got, double exact) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  if (std::isnan(exact))
    return std::isnan(got) ? 0 : inf;
  if (std::isnan(got))
    return inf;
  float rounded = float(exact);
  if (std::isinf(rounded))
    return got == rounded ? 0 : inf;
  if (std::isinf(got))
    return inf;
  double a = std::fabs(exact);
  int e;
  std::frexp(a, &e);
  double ulp = a < 0x1p-126 ? 0x1p-149 : std::ldexp(1.0, e - 24);
  return std::fabs(double(got) - exact) / ulp;
}

/// Adds `count` consecutive floats starting `before` floats below `x`
/// (walking the bit patterns through zero where the range crosses it).
void addAround(std::vector<float> &out, float x, int before, int count) {
  int64_t key = toBits(x) & 0x80000000u ? -int64_t(toBits(x) & 0x7fffffffu) : int64_t(toBits(x));
  for (int64_t k = key - before; k < key - before + count; ++k)
    out.push_back(k < 0 ? fromBits(0x80000000u | uint32_t(-k)) : fromBits(uint32_t(k)));
}

/// Adds `count` evenly spaced floats in [lo, hi].
void addGrid(std::vector<float> &out, double lo, double hi, int count) {
  for (int k = 0; k < count; ++k)
    out.push_back(float(lo + (hi - lo) * k / (count - 1)));
}

/// Every 4096th bit pattern of the 2^32, at a pseudo-random offset in each
/// block so the low significand bits vary: 2^20 floats over the whole range.
std::vector<float> strided() {
  std::vector<float> out;
  out.reserve(1 << 20);
  for (uint64_t block = 0; block < (uint64_t(1) << 20); ++block)
    out.push_back(fromBits(uint32_t(block << 12) | (uint32_t(block * 2654435761u) >> 20)));
  return out;
}

std::vector<float> specialValues() {
  return {0.0f,     -0.0f,     kInf,          -kInf,        kNan,        -kNan,
          1.0f,     -1.0f,     0.5f,          2.0f,         0x1p-126f,   -0x1p-126f,
          0x1p-149f, -0x1p-149f, 0x1.fffffcp-127f, -0x1.fffffcp-127f, 0x1p-140f, -0x1p-140f,
          3.4028235e38f, -3.4028235e38f, 1e-30f, -1e-30f};
}

/// Where each function is hard, beyond the strided sweep.
std::vector<float> denseSamples(MathFn fn) {
  std::vector<float> s;
  addGrid(s, -1, 1, 1 << 16);
  addAround(s, 0.0f, 1 << 12, 1 << 13); // the smallest subnormals of both signs
  switch (fn) {
  case MathFn::Exp:
    addGrid(s, -104, 89, 1 << 18);
    for (float t : {88.7228394f, -87.3365479f, -103.278931f, -103.972084f, 0.34657359f, -0.34657359f})
      addAround(s, t, 1 << 12, 1 << 13);
    break;
  case MathFn::Log:
    addAround(s, 1.0f, 1 << 15, 1 << 16);
    addAround(s, 0.70710677f, 1 << 12, 1 << 13);
    addGrid(s, 0.25, 4, 1 << 18);
    for (uint32_t b = 1; b < 0x00800000u; b += 61) // the subnormals
      s.push_back(fromBits(b));
    break;
  case MathFn::Log1p:
    addAround(s, -1.0f, 0, 1 << 14);
    addAround(s, -0.29289323f, 1 << 12, 1 << 13);
    addAround(s, 0.41421356f, 1 << 12, 1 << 13);
    addGrid(s, -1, 4, 1 << 18);
    addGrid(s, 1, 1e7, 1 << 14);
    break;
  case MathFn::Tanh:
    addGrid(s, -10, 10, 1 << 18);
    for (float t : {9.0109f, -9.0109f, 0.55f, 0.34657359f})
      addAround(s, t, 1 << 12, 1 << 13);
    break;
  case MathFn::Sigmoid:
    addGrid(s, -110, 20, 1 << 18);
    for (float t : {-87.3365479f, -103.278931f, -103.972084f, 16.6355324f, 17.3286791f})
      addAround(s, t, 1 << 12, 1 << 13);
    break;
  case MathFn::Sin:
  case MathFn::Cos:
    addGrid(s, -4, 4, 1 << 16);
    addGrid(s, -8192, 8192, 1 << 18);
    addGrid(s, -kTrigMaxArgument, kTrigMaxArgument, 1 << 16);
    // The floats nearest to multiples of pi/2 up to 8192 and at large
    // multiples, where the reduced argument is smallest.
    for (int k = 1; k <= 5215; ++k)
      addAround(s, float(k * (std::numbers::pi / 2)), 2, 5);
    for (int64_t k = 5216; k < 10680000; k += 997)
      addAround(s, float(double(k) * (std::numbers::pi / 2)), 1, 3);
    addAround(s, kTrigMaxArgument, 4, 9);
    break;
  }
  return s;
}

/// Arguments where the exhaustive run over all 2^32 floats found the largest
/// errors (docs/vector-math.md), kept so that a regression shows up here.
std::vector<float> worstCases(MathFn fn) {
  switch (fn) {
  case MathFn::Exp:
    return {-0x1.b5484ep+4f};
  case MathFn::Log:
    return {0x1.682b1ep-1f};
  case MathFn::Log1p:
    return {-0x1.2fa9c4p-2f};
  case MathFn::Tanh:
    return {0x1.fd0794p-8f};
  case MathFn::Sigmoid:
    return {-0x1.0a111ap+2f};
  case MathFn::Sin:
    return {-0x1.5bfe84p+10f, 0x1.c704c4p+19f, 0x1.9c1046p+23f};
  case MathFn::Cos:
    return {-0x1.561a9ap+10f, 0x1.e506fp+19f, 0x1.b97ap+23f};
  }
  return {};
}

/// The samples of one function's accuracy test.
std::vector<float> allSamples(MathFn fn) {
  std::vector<float> s = strided();
  for (const auto &extra : {denseSamples(fn), worstCases(fn), specialValues()})
    s.insert(s.end(), extra.begin(), extra.end());
  return s;
}

bool inTrigDomain(float x) { return std::fabs(x) <= kTrigMaxArgument; }

/// sin's and cos's tighter bound for |x| <= 8192 (docs/vector-math.md: the
/// exhaustive maxima there are 1.531 and 1.536 ulp).
constexpr double kTrigSmallArgUlp = 1.6;

/// "0x1.b5484ep+4 (-27.3301525)": an argument, exactly and readably.
std::string describe(float x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%a (%.9g)", double(x), double(x));
  return buf;
}

/// The largest error seen and where.
struct MaxError {
  double value = 0;
  float at = 0;
  void add(double err, float x) {
    if (!(err <= value)) {
      value = err;
      at = x;
    }
  }
};

/// Checks one function over allSamples: the ulp and absolute bounds (NaN
/// outside sin's and cos's domain) and bit-identity of the scalar and
/// 8-wide variants.
void checkAccuracy(MathFn fn) {
  MathJit &jit = MathJit::get();
  std::vector<float> in = allSamples(fn);
  std::vector<float> scalar = run(jit.scalar(fn), in, 1);
  std::vector<float> vec = run(jit.vector8(fn), in, 8);
  bool trig = fn == MathFn::Sin || fn == MathFn::Cos;
  MaxError ulps, abs, smallArgUlps;
  size_t mismatches = 0, checked = 0, outside = 0;
  for (size_t k = 0; k < in.size(); ++k) {
    if (toBits(scalar[k]) != toBits(vec[k]))
      ++mismatches;
    if (trig && !inTrigDomain(in[k])) {
      outside += !std::isnan(scalar[k]);
      continue;
    }
    double exact = reference(fn, double(in[k]));
    double err = ulpError(scalar[k], exact);
    ++checked;
    ulps.add(err, in[k]);
    if (std::isfinite(exact) && std::isfinite(scalar[k]))
      abs.add(std::fabs(double(scalar[k]) - exact), in[k]);
    if (trig && std::fabs(in[k]) <= 8192)
      smallArgUlps.add(err, in[k]);
  }
  MathErrorBound bound = errorBound(fn);
  INFO(std::string(mathFnName(fn)), ": ", checked, " samples, max error ", ulps.value, " ulp at ",
       describe(ulps.at), " (bound ", bound.maxUlp, "), max absolute error ", abs.value, " at ",
       describe(abs.at), " (bound ", bound.maxAbs, ")");
  CHECK(std::string(bound.name) == mathFnName(fn));
  CHECK(ulps.value <= bound.maxUlp);
  if (bound.maxAbs > 0)
    CHECK(abs.value <= bound.maxAbs);
  if (trig) {
    INFO("|x| <= 8192: max error ", smallArgUlps.value, " ulp at ", describe(smallArgUlps.at));
    CHECK(smallArgUlps.value <= kTrigSmallArgUlp);
  }
  CHECK(mismatches == 0);
  CHECK(outside == 0);
  CHECK(checked > (1u << 20));
}

/// fn(x) for single arguments, through the scalar variant.
float eval(MathFn fn, float x) { return run(MathJit::get().scalar(fn), {x}, 1)[0]; }

bool sameBits(float a, float b) { return toBits(a) == toBits(b); }

} // namespace

TEST_CASE("vector math: exp within its ulp bound, 8-wide bit-identical") { checkAccuracy(MathFn::Exp); }
TEST_CASE("vector math: log within its ulp bound, 8-wide bit-identical") { checkAccuracy(MathFn::Log); }
TEST_CASE("vector math: log1p within its ulp bound, 8-wide bit-identical") { checkAccuracy(MathFn::Log1p); }
TEST_CASE("vector math: tanh within its ulp bound, 8-wide bit-identical") { checkAccuracy(MathFn::Tanh); }
TEST_CASE("vector math: sigmoid within its ulp bound, 8-wide bit-identical") { checkAccuracy(MathFn::Sigmoid); }
TEST_CASE("vector math: sin within its ulp bound, 8-wide bit-identical") { checkAccuracy(MathFn::Sin); }
TEST_CASE("vector math: cos within its ulp bound, 8-wide bit-identical") { checkAccuracy(MathFn::Cos); }

TEST_CASE("vector math: special values") {
  using F = MathFn;
  // exp: overflow, underflow, subnormal results, infinities, NaN.
  CHECK(sameBits(eval(F::Exp, -kInf), 0.0f));
  CHECK(eval(F::Exp, kInf) == kInf);
  CHECK(std::isnan(eval(F::Exp, kNan)));
  CHECK(eval(F::Exp, 0.0f) == 1.0f);
  CHECK(eval(F::Exp, -0.0f) == 1.0f);
  CHECK(eval(F::Exp, 88.7228394f) == kInf);
  CHECK(eval(F::Exp, 88.7228317f) == std::exp(88.7228317f));
  CHECK(eval(F::Exp, -100.0f) == std::exp(-100.0f)); // subnormal, not flushed
  CHECK(sameBits(eval(F::Exp, -104.0f), 0.0f));
  // log: zero, negatives, infinity, NaN, subnormals.
  CHECK(eval(F::Log, 0.0f) == -kInf);
  CHECK(eval(F::Log, -0.0f) == -kInf);
  CHECK(std::isnan(eval(F::Log, -1.0f)));
  CHECK(std::isnan(eval(F::Log, -kInf)));
  CHECK(std::isnan(eval(F::Log, -0x1p-149f)));
  CHECK(eval(F::Log, kInf) == kInf);
  CHECK(std::isnan(eval(F::Log, kNan)));
  CHECK(sameBits(eval(F::Log, 1.0f), 0.0f));
  CHECK(eval(F::Log, 0x1p-149f) == std::log(0x1p-149f));
  // log1p: -1, below -1, signed zeros, tiny arguments.
  CHECK(eval(F::Log1p, -1.0f) == -kInf);
  CHECK(std::isnan(eval(F::Log1p, -1.5f)));
  CHECK(std::isnan(eval(F::Log1p, -kInf)));
  CHECK(eval(F::Log1p, kInf) == kInf);
  CHECK(std::isnan(eval(F::Log1p, kNan)));
  CHECK(sameBits(eval(F::Log1p, -0.0f), -0.0f));
  CHECK(sameBits(eval(F::Log1p, 0.0f), 0.0f));
  CHECK(eval(F::Log1p, 1e-30f) == 1e-30f);
  CHECK(eval(F::Log1p, 0x1p-149f) == 0x1p-149f);
  CHECK(eval(F::Log1p, 3.4028235e38f) == std::log1p(3.4028235e38f));
  // tanh: signed zeros, saturation, tiny arguments.
  CHECK(sameBits(eval(F::Tanh, 0.0f), 0.0f));
  CHECK(sameBits(eval(F::Tanh, -0.0f), -0.0f));
  CHECK(eval(F::Tanh, kInf) == 1.0f);
  CHECK(eval(F::Tanh, -kInf) == -1.0f);
  CHECK(eval(F::Tanh, 20.0f) == 1.0f);
  CHECK(eval(F::Tanh, -9.5f) == -1.0f);
  CHECK(std::isnan(eval(F::Tanh, kNan)));
  CHECK(eval(F::Tanh, 1e-30f) == 1e-30f);
  CHECK(eval(F::Tanh, -0x1p-149f) == -0x1p-149f);
  // sigmoid: limits, the middle, relative accuracy far out on the left.
  CHECK(sameBits(eval(F::Sigmoid, -kInf), 0.0f));
  CHECK(eval(F::Sigmoid, kInf) == 1.0f);
  CHECK(std::isnan(eval(F::Sigmoid, kNan)));
  CHECK(eval(F::Sigmoid, 0.0f) == 0.5f);
  CHECK(eval(F::Sigmoid, 20.0f) == 1.0f);
  CHECK(eval(F::Sigmoid, -80.0f) == doctest::Approx(1.8048513878e-35).epsilon(1e-6));
  CHECK(eval(F::Sigmoid, -100.0f) > 0.0f); // subnormal, not flushed
  CHECK(sameBits(eval(F::Sigmoid, -110.0f), 0.0f));
  // sin, cos: signed zeros, infinities, NaN, the domain's end.
  CHECK(sameBits(eval(F::Sin, 0.0f), 0.0f));
  CHECK(sameBits(eval(F::Sin, -0.0f), -0.0f));
  CHECK(eval(F::Cos, 0.0f) == 1.0f);
  CHECK(eval(F::Cos, -0.0f) == 1.0f);
  CHECK(eval(F::Sin, 1e-30f) == 1e-30f);
  CHECK(eval(F::Sin, -0x1p-149f) == -0x1p-149f);
  for (F fn : {F::Sin, F::Cos}) {
    CHECK(std::isnan(eval(fn, kInf)));
    CHECK(std::isnan(eval(fn, -kInf)));
    CHECK(std::isnan(eval(fn, kNan)));
    CHECK(std::isnan(eval(fn, 2 * kTrigMaxArgument)));
    CHECK(std::isnan(eval(fn, -3e38f)));
    CHECK_FALSE(std::isnan(eval(fn, kTrigMaxArgument)));
    CHECK_FALSE(std::isnan(eval(fn, -kTrigMaxArgument)));
  }
}

TEST_CASE("vector math: straight-line bodies calling only cheap intrinsics") {
  llvm::LLVMContext ctx;
  llvm::Module m("structure", ctx);
  llvm::Type *f32 = llvm::Type::getFloatTy(ctx);
  const llvm::Intrinsic::ID allowed[] = {
      llvm::Intrinsic::fma,       llvm::Intrinsic::fabs,      llvm::Intrinsic::floor,
      llvm::Intrinsic::ceil,      llvm::Intrinsic::trunc,     llvm::Intrinsic::rint,
      llvm::Intrinsic::nearbyint, llvm::Intrinsic::round,     llvm::Intrinsic::roundeven,
      llvm::Intrinsic::minnum,    llvm::Intrinsic::maxnum,    llvm::Intrinsic::copysign};
  for (MathFn fn : kAllFns) {
    for (llvm::Type *ty : {f32, static_cast<llvm::Type *>(llvm::FixedVectorType::get(f32, 8))}) {
      llvm::Function *f = getMathFunction(m, fn, ty);
      std::string suffix = ty == f32 ? ".f32" : ".v8f32";
      INFO(f->getName().str());
      CHECK(f->getName() == std::string("gradc.") + mathFnName(fn) + suffix);
      CHECK(static_cast<void *>(getMathFunction(m, fn, ty)) == static_cast<void *>(f));
      CHECK(f->hasInternalLinkage());
      CHECK(f->hasFnAttribute(llvm::Attribute::AlwaysInline));
      CHECK(f->doesNotAccessMemory());
      CHECK(f->getReturnType() == ty);
      CHECK_FALSE(llvm::verifyFunction(*f, &llvm::errs()));
      CHECK(f->size() == 1); // one block: no branches
      for (llvm::Instruction &inst : f->getEntryBlock()) {
        CHECK_FALSE(inst.mayReadOrWriteMemory());
        if (auto *call = llvm::dyn_cast<llvm::CallBase>(&inst)) {
          llvm::Function *callee = call->getCalledFunction();
          REQUIRE(callee != nullptr);
          INFO("calls ", callee->getName().str());
          CHECK(std::find(std::begin(allowed), std::end(allowed), callee->getIntrinsicID()) !=
                std::end(allowed));
        }
      }
    }
  }
}

TEST_CASE("vector math: a declaration of the name gets the body") {
  llvm::LLVMContext ctx;
  llvm::Module m("declared", ctx);
  llvm::Type *f32 = llvm::Type::getFloatTy(ctx);
  llvm::Function *decl = llvm::Function::Create(llvm::FunctionType::get(f32, {f32}, false),
                                                llvm::GlobalValue::ExternalLinkage, "gradc.tanh.f32", m);
  CHECK(static_cast<void *>(getMathFunction(m, MathFn::Tanh, f32)) == static_cast<void *>(decl));
  CHECK_FALSE(decl->isDeclaration());
  CHECK(decl->hasInternalLinkage());
  CHECK_FALSE(llvm::verifyModule(m, &llvm::errs()));
}

TEST_CASE("vector math: loops calling the functions vectorize at O2, same results") {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  std::string triple = llvm::sys::getProcessTriple(), error;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, error);
  REQUIRE_MESSAGE(target != nullptr, error);
  llvm::SubtargetFeatures features;
  auto hostFeatures = llvm::sys::getHostCPUFeatures();
  for (const auto &feature : hostFeatures)
    features.AddFeature(feature.getKey(), feature.getValue());
  // The 8-wide check needs AVX2 and FMA (this project's machines have both);
  // elsewhere only the results are compared.
  bool avx2 = hostFeatures.lookup("avx2") && hostFeatures.lookup("fma");
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, llvm::sys::getHostCPUName(), features.getString(), llvm::TargetOptions(), llvm::Reloc::PIC_));
  REQUIRE(tm != nullptr);

  auto ctx = std::make_unique<llvm::LLVMContext>();
  auto mod = std::make_unique<llvm::Module>("vectorize", *ctx);
  mod->setTargetTriple(triple);
  mod->setDataLayout(tm->createDataLayout());
  for (MathFn fn : kAllFns)
    buildApply(*mod, fn, 1, applyName(fn, 1));

  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb(tm.get());
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O2).run(*mod, mam);

  for (MathFn fn : kAllFns) {
    llvm::Function *f = mod->getFunction(applyName(fn, 1));
    REQUIRE(f != nullptr);
    std::string text;
    llvm::raw_string_ostream os(text);
    f->print(os);
    INFO(std::string(mathFnName(fn)), " after O2:\n", text);
    if (avx2) {
      CHECK(text.find("<8 x float>") != std::string::npos);
      CHECK(text.find("@llvm.fma.v8f32") != std::string::npos);
    }
    CHECK(text.find("@gradc.") == std::string::npos); // inlined
  }
  // The internal functions are gone once inlined.
  CHECK(mod->getFunction("gradc.exp.f32") == nullptr);

  // Run the optimized loops; they agree bit for bit with the scalar
  // functions as emitted, remainder iterations included (n % 8 != 0).
  auto jit = makeJit();
  llvm::cantFail(jit->addIRModule(llvm::orc::ThreadSafeModule(std::move(mod), std::move(ctx))));
  std::vector<float> in = strided();
  in.resize(100003);
  for (float x : specialValues())
    in.push_back(x);
  for (MathFn fn : kAllFns) {
    auto optimized = llvm::cantFail(jit->lookup(applyName(fn, 1))).toPtr<ApplyFn>();
    std::vector<float> want = run(MathJit::get().scalar(fn), in, 1);
    std::vector<float> got(in.size());
    optimized(in.data(), got.data(), int64_t(in.size()));
    size_t mismatches = 0;
    for (size_t k = 0; k < in.size(); ++k)
      mismatches += !sameBits(got[k], want[k]);
    INFO(std::string(mathFnName(fn)));
    CHECK(mismatches == 0);
  }
}
