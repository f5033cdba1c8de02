//===- codegen/EmitElementwise.cpp - Elementwise ops and fills ------------===//
//
// An elementwise kernel is one flat loop over the result's elements (its
// operands have the result's shape or rank 0), which the loop vectorizer
// turns into 8-wide AVX2 code; exp, log, tanh, sigmoid, sin and cos are
// gradc's own branch-free approximations (codegen/VectorMath.h), inlined
// before vectorization. Each function matches the interpreter's definition
// (runtime/InterpreterOps.cpp), NaN and infinity included. Operands its
// kernel computes in place (codegen/Inlined.h) are computed at the loop
// point: fused elementwise ops recursively, views through their remap's map,
// which makes the kernel a loop nest over the result instead.
//
//===----------------------------------------------------------------------===//
#include "codegen/Emitter.h"

#include "codegen/VectorMath.h"
#include "support/Assert.h"

#include <cmath>

namespace gradc::codegen {

using ir::OpKind;

namespace {

llvm::Value *fconst(Emitter &E, double v) { return llvm::ConstantFP::get(E.f32(), v); }

llvm::Value *isNaN(llvm::IRBuilder<> &b, llvm::Value *x) { return b.CreateFCmpUNO(x, x); }

/// x^e for a constant e: exact products for small integral exponents (so
/// that (-2)^3 = -8, as std::pow gives), exp(e·log|x|) with the sign of an
/// odd power otherwise, and NaN for a negative base and a fractional e.
llvm::Value *powConst(Emitter &E, llvm::Value *x, double e) {
  llvm::IRBuilder<> &b = E.b();
  if (e == 1)
    return x;
  if (e == 0)
    return fconst(E, 1.0);
  if (e == 0.5)
    return b.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, x);
  double ip;
  bool integral = std::modf(e, &ip) == 0.0;
  if (integral && std::fabs(e) <= 8) {
    int n = static_cast<int>(std::fabs(e));
    llvm::Value *r = x;
    for (int i = 1; i < n; ++i)
      r = b.CreateFMul(r, x);
    return e < 0 ? b.CreateFDiv(fconst(E, 1.0), r) : r;
  }
  llvm::Value *ax = b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x);
  llvm::Value *mag = emitMath(b, MathFn::Exp, b.CreateFMul(fconst(E, e), emitMath(b, MathFn::Log, ax)));
  llvm::Value *neg = b.CreateFCmpOLT(x, fconst(E, 0.0));
  if (!integral) // a negative base has no real fractional power
    return b.CreateSelect(neg, fconst(E, NAN), mag);
  bool odd = std::fmod(std::fabs(e), 2.0) == 1.0;
  return odd ? b.CreateSelect(neg, b.CreateFNeg(mag), mag) : mag;
}

} // namespace

llvm::Value *Emitter::elementwiseValue(const ir::Op &op, const std::vector<llvm::Value *> &xs) {
  llvm::IRBuilder<> &b = *b_;
  llvm::Value *x = xs[0];
  llvm::Value *zero = fconst(*this, 0.0), *one = fconst(*this, 1.0);
  switch (op.kind) {
  case OpKind::Neg:
    return b.CreateFNeg(x);
  case OpKind::Exp:
    return emitMath(b, MathFn::Exp, x);
  case OpKind::Log:
    return emitMath(b, MathFn::Log, x);
  case OpKind::Sqrt:
    return b.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, x);
  case OpKind::Rsqrt:
    return b.CreateFDiv(one, b.CreateUnaryIntrinsic(llvm::Intrinsic::sqrt, x));
  case OpKind::Abs:
    return b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x);
  case OpKind::Tanh:
    return emitMath(b, MathFn::Tanh, x);
  case OpKind::Sigmoid:
    return emitMath(b, MathFn::Sigmoid, x);
  case OpKind::Relu: // NaN passes through: NaN < 0 is false
    return b.CreateSelect(b.CreateFCmpOLT(x, zero), zero, x);
  case OpKind::Softplus: {
    // max(x, 0) + log(1 + e^-|x|): finite for every finite x.
    llvm::Value *ax = b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, x);
    llvm::Value *tail = emitMath(b, MathFn::Log1p, emitMath(b, MathFn::Exp, b.CreateFNeg(ax)));
    // max(x, 0) as relu writes it, NaN passing through. Not as
    // select(isnan(x), x, x > 0 ? x : 0): LLVM 19's instcombine folds that,
    // for x = |y|, into y > 0 ? |y| : 0 (unordered), wrong for every y < 0.
    llvm::Value *pos = b.CreateSelect(b.CreateFCmpOLT(x, zero), zero, x);
    return b.CreateFAdd(pos, tail);
  }
  case OpKind::Sin:
    return emitMath(b, MathFn::Sin, x);
  case OpKind::Cos:
    return emitMath(b, MathFn::Cos, x);
  case OpKind::PowC:
    return op.value == 2.0 ? b.CreateFMul(x, x) : powConst(*this, x, op.value);
  case OpKind::StopGrad:
    return x;
  default:
    break;
  }
  llvm::Value *y = xs.size() > 1 ? xs[1] : nullptr;
  auto flag = [&](llvm::Value *c) { return b.CreateUIToFP(c, f32()); };
  switch (op.kind) {
  case OpKind::Add:
    return b.CreateFAdd(x, y);
  case OpKind::Sub:
    return b.CreateFSub(x, y);
  case OpKind::Mul:
    return b.CreateFMul(x, y);
  case OpKind::Div:
    return b.CreateFDiv(x, y);
  case OpKind::Max:
  case OpKind::Min: {
    // NaN if either is NaN; otherwise the first of equals (as a >= b ? a : b).
    llvm::Value *pick = op.kind == OpKind::Max ? b.CreateFCmpOGE(x, y) : b.CreateFCmpOLE(x, y);
    llvm::Value *r = b.CreateSelect(pick, x, y);
    return b.CreateSelect(b.CreateOr(isNaN(b, x), isNaN(b, y)), fconst(*this, NAN), r);
  }
  case OpKind::LeakyRelu:
    return b.CreateSelect(b.CreateFCmpOGT(x, zero), x, b.CreateFMul(y, x));
  case OpKind::Lt:
    return flag(b.CreateFCmpOLT(x, y));
  case OpKind::Le:
    return flag(b.CreateFCmpOLE(x, y));
  case OpKind::Gt:
    return flag(b.CreateFCmpOGT(x, y));
  case OpKind::Ge:
    return flag(b.CreateFCmpOGE(x, y));
  case OpKind::Eq:
    return flag(b.CreateFCmpOEQ(x, y));
  case OpKind::Ne:
    return flag(b.CreateFCmpUNE(x, y));
  case OpKind::Where:
    return b.CreateSelect(b.CreateFCmpUNE(x, zero), y, xs[2]);
  default:
    GRADC_UNREACHABLE(std::string("not an elementwise op: ") + op.mnemonic());
  }
}

bool Emitter::readsView(const ir::Op &op) const {
  for (const ir::Value *v : op.operands)
    if (plan_.isInlined(v) &&
        (v->def->opClass() == ir::OpClass::Remap || readsView(*v->def)))
      return true;
  return false;
}

llvm::Value *Emitter::elementAt(const ir::Value *v, const Loops &idx, llvm::Value *i) {
  const std::vector<int64_t> &shape = v->type.shape;
  if (plan_.isInlined(v)) {
    const ir::Op &op = *v->def;
    if (op.opClass() == ir::OpClass::Remap) // a view: its source through its map
      return readThrough(op, 0, op.maps[0], idx, shape);
    std::vector<llvm::Value *> xs; // a fused elementwise op, computed here
    for (const ir::Value *x : op.operands)
      xs.push_back(elementAt(x, idx, i));
    return elementwiseValue(op, xs);
  }
  return loadF32(v, v->type.rank() == 0 ? c64(0) : i);
}

void Emitter::emitElementwise(const ir::Op &op) {
  const ir::Value *r = op.result();
  if (readsView(op)) {
    // A loop nest over the result, split over its first axis: a view is
    // read through its remap's map at the loop point (0 outside its
    // source, as the remap would have stored), the other operands at the
    // point's linear offset.
    const std::vector<int64_t> &shape = r->type.shape;
    loopNest(shape, true, [&](const Loops &idx) {
      llvm::Value *i = linear(shape, idx);
      std::vector<llvm::Value *> xs;
      for (const ir::Value *v : op.operands)
        xs.push_back(elementAt(v, idx, i));
      storeF32(r, i, elementwiseValue(op, xs));
    });
    return;
  }
  loop(kernel().begin, kernel().end, [&](llvm::Value *i) {
    std::vector<llvm::Value *> xs;
    for (const ir::Value *v : op.operands)
      xs.push_back(elementAt(v, {}, i));
    storeF32(r, i, elementwiseValue(op, xs));
  });
}

void Emitter::emitFill(const ir::Op &op) {
  const ir::Value *r = op.result();
  if (op.kind == OpKind::Constant) {
    llvm::Value *v = fconst(*this, op.value);
    loop(kernel().begin, kernel().end, [&](llvm::Value *i) { storeF32(r, i, v); });
    return;
  }
  // iota: the position along axis a of element i is (i / stride_a) % size_a.
  const std::vector<int64_t> &shape = r->type.shape;
  int a = op.axes.at(0);
  int64_t stride = 1;
  for (size_t k = a + 1; k < shape.size(); ++k)
    stride *= shape[k];
  loop(kernel().begin, kernel().end, [&](llvm::Value *i) {
    llvm::Value *p = b_->CreateURem(b_->CreateUDiv(i, c64(stride)), c64(shape[a]));
    b_->CreateStore(b_->CreateTrunc(p, i32()), b_->CreateGEP(i32(), base(r), i));
  });
}

} // namespace gradc::codegen
