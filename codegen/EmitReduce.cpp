//===- codegen/EmitReduce.cpp - Reductions and normalizations -------------===//
//
// A reduction loops over the kept axes (the result's positions, split
// across threads) and, inside, over the reduced axes of its group. The
// semantics are the interpreter's: NaN propagates through max and min,
// argmax takes the first maximum (or the first NaN), and logsumexp and the
// softmaxes shift by the group's maximum so that nothing overflows, with an
// infinite maximum shifting by 0.
//
//===----------------------------------------------------------------------===//
#include "codegen/Emitter.h"

#include "codegen/VectorMath.h"
#include "support/Assert.h"

#include <cmath>

namespace gradc::codegen {

using ir::OpKind;

namespace {

/// The groups of a reduction over `axes` of `shape`: kept and reduced
/// extents, and the input's linear index of a (kept, reduced) pair.
struct Groups {
  std::vector<int64_t> kept, reduced;
  std::vector<bool> isReduced;
  Groups(const std::vector<int64_t> &shape, const std::vector<int> &axes)
      : isReduced(shape.size(), false) {
    for (int a : axes)
      isReduced[a] = true;
    for (size_t a = 0; a < shape.size(); ++a)
      (isReduced[a] ? reduced : kept).push_back(shape[a]);
  }
  Emitter::Loops full(const Emitter::Loops &k, const Emitter::Loops &r) const {
    Emitter::Loops idx;
    size_t ki = 0, ri = 0;
    for (bool red : isReduced)
      idx.push_back(red ? r[ri++] : k[ki++]);
    return idx;
  }
};

llvm::Value *slot(Emitter &E, llvm::Type *t, const char *name) {
  llvm::IRBuilder<> &b = E.b();
  auto saved = b.saveIP();
  llvm::BasicBlock &entry = b.GetInsertBlock()->getParent()->getEntryBlock();
  b.SetInsertPoint(&entry, entry.getFirstInsertionPt());
  llvm::Value *a = b.CreateAlloca(t, nullptr, name);
  b.restoreIP(saved);
  return a;
}

llvm::Value *isNaN(llvm::IRBuilder<> &b, llvm::Value *x) { return b.CreateFCmpUNO(x, x); }

/// Emits a loop over one group accumulating into `acc` with `step`.
void overGroup(Emitter &E, const ir::Value *x, const Groups &g, const Emitter::Loops &kept,
               const std::function<void(llvm::Value *v, const Emitter::Loops &red)> &step) {
  E.loopNest(g.reduced, false, [&](const Emitter::Loops &red) {
    Emitter::Loops at = g.full(kept, red);
    llvm::Value *off = x->type.rank() == 0 ? E.c64(0) : E.linear(x->type.shape, at);
    step(E.elementAt(x, at, off), red);
  });
}

/// The position of the group's first maximum (of its first NaN, if any),
/// as an i64.
llvm::Value *groupArgmax(Emitter &E, const ir::Value *x, const Groups &g,
                         const Emitter::Loops &kept) {
  llvm::IRBuilder<> &b = E.b();
  llvm::Value *acc = slot(E, E.f32(), "best");
  llvm::Value *pos = slot(E, E.i64(), "pos");
  llvm::Value *seen = slot(E, b.getInt1Ty(), "seen");
  b.CreateStore(llvm::ConstantFP::getInfinity(E.f32(), true), acc);
  b.CreateStore(E.c64(0), pos);
  b.CreateStore(b.getFalse(), seen);
  overGroup(E, x, g, kept, [&](llvm::Value *v, const Emitter::Loops &red) {
    llvm::Value *best = b.CreateLoad(E.f32(), acc);
    llvm::Value *was = b.CreateLoad(b.getInt1Ty(), seen);
    llvm::Value *gt = b.CreateOr(b.CreateFCmpOGT(v, best), isNaN(b, v));
    llvm::Value *better =
        b.CreateOr(b.CreateNot(was), b.CreateAnd(b.CreateNot(isNaN(b, best)), gt));
    b.CreateStore(b.CreateSelect(better, v, best), acc);
    b.CreateStore(b.CreateSelect(better, red[0], b.CreateLoad(E.i64(), pos)), pos);
    b.CreateStore(b.getTrue(), seen);
  });
  return b.CreateLoad(E.i64(), pos);
}

/// The group's maximum, NaN if it holds one (stored in `m`).
void groupMax(Emitter &E, const ir::Value *x, const Groups &g, const Emitter::Loops &kept,
              llvm::Value *m, bool max) {
  llvm::IRBuilder<> &b = E.b();
  b.CreateStore(llvm::ConstantFP::getInfinity(E.f32(), max), m);
  overGroup(E, x, g, kept, [&](llvm::Value *v, const Emitter::Loops &) {
    llvm::Value *acc = b.CreateLoad(E.f32(), m);
    llvm::Value *better = max ? b.CreateFCmpOGT(v, acc) : b.CreateFCmpOLT(v, acc);
    llvm::Value *take = b.CreateAnd(b.CreateNot(isNaN(b, acc)), b.CreateOr(isNaN(b, v), better));
    b.CreateStore(b.CreateSelect(take, v, acc), m);
  });
}

/// The shift of a softmax-like op: the maximum, or 0 where it is ±inf.
llvm::Value *shiftOf(Emitter &E, llvm::Value *m) {
  llvm::IRBuilder<> &b = E.b();
  llvm::Value *inf = b.CreateFCmpOEQ(b.CreateUnaryIntrinsic(llvm::Intrinsic::fabs, m),
                                     llvm::ConstantFP::getInfinity(E.f32()));
  return b.CreateSelect(inf, llvm::ConstantFP::get(E.f32(), 0.0), m);
}

/// sum(exp(x - shift)) over the group (stored in `s`).
void groupSumExp(Emitter &E, const ir::Value *x, const Groups &g, const Emitter::Loops &kept,
                 llvm::Value *shift, llvm::Value *s) {
  llvm::IRBuilder<> &b = E.b();
  b.CreateStore(llvm::ConstantFP::get(E.f32(), 0.0), s);
  overGroup(E, x, g, kept, [&](llvm::Value *v, const Emitter::Loops &) {
    llvm::Value *e = emitMath(b, MathFn::Exp, b.CreateFSub(v, shift));
    auto *sum = llvm::cast<llvm::Instruction>(b.CreateFAdd(b.CreateLoad(E.f32(), s), e));
    llvm::FastMathFlags f = sum->getFastMathFlags();
    f.setAllowReassoc(true);
    sum->setFastMathFlags(f);
    b.CreateStore(sum, s);
  });
}

} // namespace

llvm::Value *Emitter::argmaxAt(const ir::Op &argmax, const Loops &kept) {
  GRADC_ASSERT(argmax.kind == OpKind::ArgMax && argmax.axes.size() == 1,
               "argmaxAt of an op that is not an argmax over one axis");
  const ir::Value *x = argmax.operand(0);
  return groupArgmax(*this, x, Groups(x->type.shape, argmax.axes), kept);
}

void Emitter::emitReduce(const ir::Op &op) {
  const ir::Value *x = op.operand(0), *r = op.result();
  Groups g(x->type.shape, op.axes);
  llvm::Value *acc = slot(*this, f32(), "acc");
  llvm::Value *sum = slot(*this, f32(), "sum");
  loopNest(g.kept, true, [&](const Loops &kept) {
    llvm::Value *out = g.kept.empty() ? c64(0) : linear(g.kept, kept);
    switch (op.kind) {
    case OpKind::ReduceSum: {
      b_->CreateStore(llvm::ConstantFP::get(f32(), 0.0), acc);
      overGroup(*this, x, g, kept, [&](llvm::Value *v, const Loops &) {
        auto *s = llvm::cast<llvm::Instruction>(b_->CreateFAdd(b_->CreateLoad(f32(), acc), v));
        llvm::FastMathFlags f = s->getFastMathFlags();
        f.setAllowReassoc(true);
        s->setFastMathFlags(f);
        b_->CreateStore(s, acc);
      });
      storeF32(r, out, b_->CreateLoad(f32(), acc));
      break;
    }
    case OpKind::ReduceMax:
    case OpKind::ReduceMin:
      groupMax(*this, x, g, kept, acc, op.kind == OpKind::ReduceMax);
      storeF32(r, out, b_->CreateLoad(f32(), acc));
      break;
    case OpKind::LogSumExp: {
      groupMax(*this, x, g, kept, acc, true);
      llvm::Value *shift = shiftOf(*this, b_->CreateLoad(f32(), acc));
      groupSumExp(*this, x, g, kept, shift, sum);
      storeF32(r, out, b_->CreateFAdd(shift, emitMath(*b_, MathFn::Log, b_->CreateLoad(f32(), sum))));
      break;
    }
    case OpKind::ArgMax: {
      GRADC_ASSERT(op.axes.size() == 1, "argmax over more than one axis");
      b_->CreateStore(b_->CreateTrunc(groupArgmax(*this, x, g, kept), i32()),
                      b_->CreateGEP(i32(), base(r), out));
      break;
    }
    default:
      GRADC_UNREACHABLE(std::string("not a reduction: ") + op.mnemonic());
    }
  });
}

void Emitter::emitNormalize(const ir::Op &op) {
  const ir::Value *x = op.operand(0), *r = op.result();
  Groups g(x->type.shape, op.axes);
  llvm::Value *m = slot(*this, f32(), "max");
  llvm::Value *s = slot(*this, f32(), "sum");
  loopNest(g.kept, true, [&](const Loops &kept) {
    groupMax(*this, x, g, kept, m, true);
    llvm::Value *shift = shiftOf(*this, b_->CreateLoad(f32(), m));
    groupSumExp(*this, x, g, kept, shift, s);
    llvm::Value *total = b_->CreateLoad(f32(), s);
    llvm::Value *logTotal =
        op.kind == OpKind::LogSoftmax ? emitMath(*b_, MathFn::Log, total) : nullptr;
    loopNest(g.reduced, false, [&](const Loops &red) {
      llvm::Value *off = linear(x->type.shape, g.full(kept, red));
      llvm::Value *shifted = b_->CreateFSub(loadF32(x, off), shift);
      llvm::Value *y = op.kind == OpKind::Softmax
                           ? b_->CreateFDiv(emitMath(*b_, MathFn::Exp, shifted), total)
                           : b_->CreateFSub(shifted, logTotal);
      storeF32(r, off, y);
    });
  });
}

} // namespace gradc::codegen
