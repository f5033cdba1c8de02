//===- codegen/VectorMath.cpp - The math function registry ----------------===//
//
// getMathFunction creates each (function, type) pair once per module, with
// the attributes that let the optimizer treat a call like an arithmetic
// instruction (no memory, no unwinding, speculatable) and inline it first
// (alwaysinline); the bodies come from VectorMathExpLog.cpp and
// VectorMathTrig.cpp. MathBuilder, the type-generic instruction helper those
// files share, is implemented here too.
//
//===----------------------------------------------------------------------===//
#include "codegen/VectorMath.h"

#include "codegen/VectorMathImpl.h"
#include "support/Assert.h"

#include <llvm/IR/Constants.h>
#include <llvm/IR/DerivedTypes.h>
#include <llvm/IR/Intrinsics.h>

#include <string>

namespace gradc::codegen {

namespace vmath {

/// The integer type with the same shape as `ty` (i32 or <N x i32>).
static llvm::Type *intTypeFor(llvm::Type *ty) {
  llvm::Type *i32 = llvm::Type::getInt32Ty(ty->getContext());
  if (auto *vt = llvm::dyn_cast<llvm::FixedVectorType>(ty))
    return llvm::FixedVectorType::get(i32, vt->getNumElements());
  return i32;
}

MathBuilder::MathBuilder(llvm::IRBuilder<> &builder, llvm::Type *ty)
    : b(builder), fty(ty), ity(intTypeFor(ty)) {}

llvm::Value *MathBuilder::f(double v) {
  // Round to float first, so that a constant written with more digits than
  // a float holds means the float nearest to it, not a double rounding later.
  return llvm::ConstantFP::get(fty, double(float(v)));
}

llvm::Value *MathBuilder::i(int32_t v) { return llvm::ConstantInt::get(ity, uint64_t(uint32_t(v))); }

llvm::Value *MathBuilder::fma(llvm::Value *x, llvm::Value *y, llvm::Value *z) {
  return b.CreateIntrinsic(llvm::Intrinsic::fma, {fty}, {x, y, z});
}

llvm::Value *MathBuilder::fabs(llvm::Value *x) { return b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x); }

llvm::Value *MathBuilder::rint(llvm::Value *x) { return b.CreateUnaryIntrinsic(llvm::Intrinsic::rint, x); }

llvm::Value *MathBuilder::copysign(llvm::Value *x, llvm::Value *sign) {
  return b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, x, sign);
}

llvm::Value *MathBuilder::poly(llvm::Value *x, std::initializer_list<double> c) {
  GRADC_ASSERT(c.size() > 0, "a polynomial needs a coefficient");
  const double *it = c.end();
  llvm::Value *acc = f(*--it);
  while (it != c.begin())
    acc = fma(acc, x, f(*--it));
  return acc;
}

llvm::Value *MathBuilder::pow2(llvm::Value *n) {
  // The biased exponent n + 127 in bits 23..30, a zero significand.
  return fromBits(b.CreateShl(b.CreateAdd(n, i(127)), 23));
}

} // namespace vmath

const char *mathFnName(MathFn fn) {
  switch (fn) {
  case MathFn::Exp:
    return "exp";
  case MathFn::Log:
    return "log";
  case MathFn::Log1p:
    return "log1p";
  case MathFn::Tanh:
    return "tanh";
  case MathFn::Sigmoid:
    return "sigmoid";
  case MathFn::Sin:
    return "sin";
  case MathFn::Cos:
    return "cos";
  }
  GRADC_UNREACHABLE("unknown MathFn");
}

MathErrorBound errorBound(MathFn fn) {
  // The maxima measured over all 2^32 floats (docs/vector-math.md), rounded
  // up: exp 0.981, log 0.861, log1p 0.861, tanh 2.419, sigmoid 2.402, sin
  // 2.469, cos 2.446 ulp. maxAbs is maxUlp times the largest ulp among the
  // results: 2^-17 for |log| <= 103.3 and |log1p| <= 88.8, 2^-24 for results
  // in [-1, 1] (1 itself is only ever reached where the exact value rounds
  // to it); exp's results have no useful absolute bound.
  switch (fn) {
  case MathFn::Exp:
    return {"exp", 1.0, 0.0};
  case MathFn::Log:
    return {"log", 1.0, 0x1p-17};
  case MathFn::Log1p:
    return {"log1p", 1.0, 0x1p-17};
  case MathFn::Tanh:
    return {"tanh", 2.5, 2.5 * 0x1p-24};
  case MathFn::Sigmoid:
    return {"sigmoid", 2.5, 2.5 * 0x1p-24};
  case MathFn::Sin:
    return {"sin", 2.5, 2.5 * 0x1p-24};
  case MathFn::Cos:
    return {"cos", 2.5, 2.5 * 0x1p-24};
  }
  GRADC_UNREACHABLE("unknown MathFn");
}

/// "f32" or "v8f32": the type part of an emitted function's name.
static std::string typeSuffix(llvm::Type *ty) {
  if (auto *vt = llvm::dyn_cast<llvm::FixedVectorType>(ty))
    return "v" + std::to_string(vt->getNumElements()) + "f32";
  return "f32";
}

/// Emits the body of `fn` for argument `x` at `b`'s position.
static llvm::Value *emitBody(llvm::IRBuilder<> &b, MathFn fn, llvm::Value *x) {
  vmath::MathBuilder m(b, x->getType());
  switch (fn) {
  case MathFn::Exp:
    return vmath::emitExp(m, x);
  case MathFn::Log:
    return vmath::emitLog(m, x);
  case MathFn::Log1p:
    return vmath::emitLog1p(m, x);
  case MathFn::Tanh:
    return vmath::emitTanh(m, x);
  case MathFn::Sigmoid:
    return vmath::emitSigmoid(m, x);
  case MathFn::Sin:
    return vmath::emitSinCos(m, x, /*cosine=*/false);
  case MathFn::Cos:
    return vmath::emitSinCos(m, x, /*cosine=*/true);
  }
  GRADC_UNREACHABLE("unknown MathFn");
}

llvm::Function *getMathFunction(llvm::Module &m, MathFn fn, llvm::Type *ty) {
  bool isFloat = ty->isFloatTy();
  if (auto *vt = llvm::dyn_cast<llvm::FixedVectorType>(ty))
    isFloat = vt->getElementType()->isFloatTy();
  GRADC_ASSERT(isFloat, "vector math is defined on float and fixed vectors of float");

  std::string name = std::string("gradc.") + mathFnName(fn) + "." + typeSuffix(ty);
  auto *fnTy = llvm::FunctionType::get(ty, {ty}, /*isVarArg=*/false);
  llvm::Function *f = m.getFunction(name);
  if (f && !f->isDeclaration())
    return f;
  // A declaration of that name (a module read back from text, say) gets the
  // body; anything else there would be a clash in gradc's own namespace.
  if (f)
    GRADC_ASSERT(f->getFunctionType() == fnTy, "'" + name + "' is declared with another type");
  else
    f = llvm::Function::Create(fnTy, llvm::GlobalValue::InternalLinkage, name, m);
  f->setLinkage(llvm::GlobalValue::InternalLinkage);
  // A pure function of its argument: calls can be hoisted, sunk, merged or
  // dropped like any arithmetic, and the inliner must fold them into the loop
  // before the vectorizer looks at it.
  f->addFnAttr(llvm::Attribute::AlwaysInline);
  f->addFnAttr(llvm::Attribute::NoUnwind);
  f->addFnAttr(llvm::Attribute::WillReturn);
  f->addFnAttr(llvm::Attribute::NoSync);
  f->addFnAttr(llvm::Attribute::NoFree);
  f->addFnAttr(llvm::Attribute::Speculatable);
  f->setMemoryEffects(llvm::MemoryEffects::none());

  llvm::BasicBlock *entry = llvm::BasicBlock::Create(m.getContext(), "entry", f);
  llvm::IRBuilder<> b(entry);
  llvm::Argument *x = f->getArg(0);
  x->setName("x");
  b.CreateRet(emitBody(b, fn, x));
  return f;
}

llvm::Value *emitMath(llvm::IRBuilder<> &b, MathFn fn, llvm::Value *x) {
  llvm::BasicBlock *bb = b.GetInsertBlock();
  GRADC_ASSERT(bb && bb->getModule(), "emitMath needs a builder positioned in a module");
  llvm::Function *f = getMathFunction(*bb->getModule(), fn, x->getType());
  return b.CreateCall(f, {x});
}

} // namespace gradc::codegen
