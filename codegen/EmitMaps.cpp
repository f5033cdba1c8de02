//===- codegen/EmitMaps.cpp - remap, scatter_add and contract loops -------===//
//
// The ops that position their tensors through index maps, as loop nests
// over the op's loop variables (ir/IndexMap.h numbers them: result axes,
// then reduction axes). Contractions shaped like a matrix product go to the
// GEMM kernel (EmitGemm.cpp) and convolutions with few output channels to
// the direct form (EmitDirect.cpp), as Emitter::emitOp decides; everything
// else is a loop nest whose innermost loop the vectorizer works on: the
// innermost sum, or a row of the result where the factors store it
// innermost (ir::accumulatesRows).
//
//===----------------------------------------------------------------------===//
#include "codegen/Emitter.h"

#include "ir/ContractShape.h"
#include "support/Assert.h"

namespace gradc::codegen {

namespace {

/// An f32 alloca at the top of the kernel, initialized to 0 there.
llvm::Value *accumulator(Emitter &E) {
  llvm::IRBuilder<> &b = E.b();
  auto saved = b.saveIP();
  llvm::BasicBlock &entry = b.GetInsertBlock()->getParent()->getEntryBlock();
  b.SetInsertPoint(&entry, entry.getFirstInsertionPt());
  llvm::Value *acc = b.CreateAlloca(E.f32(), nullptr, "acc");
  b.restoreIP(saved);
  return acc;
}

/// a + b where the order of a long sum may change (lets the vectorizer
/// keep several partial sums).
llvm::Value *reassocAdd(llvm::IRBuilder<> &b, llvm::Value *x, llvm::Value *y) {
  auto *r = llvm::cast<llvm::Instruction>(b.CreateFAdd(x, y));
  llvm::FastMathFlags f = r->getFastMathFlags();
  f.setAllowReassoc(true);
  r->setFastMathFlags(f);
  return r;
}

/// Stores 0 in every element of `v` (the kernel runs on one thread).
void zeroFill(Emitter &E, const ir::Value *v) {
  int64_t n = v->type.numElements();
  E.b().CreateMemSet(E.base(v), E.b().getInt8(0), E.c64(n * MemoryPlan::elementBytes(v->type)),
                     llvm::MaybeAlign(4));
}

} // namespace

void Emitter::emitRemap(const ir::Op &op) {
  const ir::Value *r = op.result();
  const std::vector<int64_t> &shape = r->type.shape;
  loopNest(shape, true, [&](const Loops &idx) {
    storeF32(r, shape.empty() ? c64(0) : linear(shape, idx),
             readThrough(op, 0, op.maps[0], idx, shape));
  });
}

bool Emitter::scatterOwnsRows(const ir::Op &op) {
  const ir::TensorType &r = op.result()->type, &src = op.operand(0)->type;
  const ir::IndexMap &to = op.maps[0];
  return r.rank() > 0 && src.rank() > 0 && r.shape[0] == src.shape[0] && !to.empty() &&
         !to[0].isIndirect() && to[0].pos.isVar(0);
}

void Emitter::emitScatterAdd(const ir::Op &op) {
  const ir::Value *r = op.result(), *src = op.operand(0);
  const std::vector<int64_t> &shape = src->type.shape;
  bool rows = scatterOwnsRows(op);
  if (rows) {
    // This piece's rows [begin, end) of the result, and no others.
    int64_t rowBytes = r->type.numElements() / r->type.shape[0] * MemoryPlan::elementBytes(r->type);
    llvm::Value *first =
        b_->CreateGEP(b_->getInt8Ty(), base(r), b_->CreateMul(ks_.begin, c64(rowBytes)));
    b_->CreateMemSet(first, b_->getInt8(0),
                     b_->CreateMul(b_->CreateSub(ks_.end, ks_.begin), c64(rowBytes)),
                     llvm::MaybeAlign(4));
  } else {
    zeroFill(*this, r);
  }
  loopNest(shape, rows, [&](const Loops &idx) {
    Access dst = access(op, op.maps[0], r->type.shape, idx, shape);
    llvm::Value *x = loadF32(src, shape.empty() ? c64(0) : linear(shape, idx));
    if (dst.inBounds) // dropped: add 0 at a clamped position instead
      x = b_->CreateSelect(dst.inBounds, x, llvm::ConstantFP::get(f32(), 0.0));
    storeF32(r, dst.offset, b_->CreateFAdd(loadF32(r, dst.offset), x));
  });
}

void Emitter::emitContract(const ir::Op &op) {
  const ir::Value *r = op.result();
  const std::vector<int64_t> &shape = r->type.shape;
  auto product = [&](const Loops &loops, const std::vector<int64_t> &extents) {
    llvm::Value *p = nullptr;
    for (size_t k = 0; k < op.operands.size(); ++k) {
      llvm::Value *x = readThrough(op, static_cast<int>(k), op.maps[k], loops, extents);
      p = p ? b_->CreateFMul(p, x) : x;
    }
    return p;
  };
  if (!op.outMap.empty()) {
    // Every loop point adds its product where the output map places it.
    zeroFill(*this, r);
    const std::vector<int64_t> &extents = op.reductionSizes;
    loopNest(extents, false, [&](const Loops &loops) {
      Access dst = access(op, op.outMap, shape, loops, extents);
      llvm::Value *x = product(loops, extents);
      if (dst.inBounds)
        x = b_->CreateSelect(dst.inBounds, x, llvm::ConstantFP::get(f32(), 0.0));
      storeF32(r, dst.offset, b_->CreateFAdd(loadF32(r, dst.offset), x));
    });
    return;
  }
  std::vector<int64_t> extents = shape;
  extents.insert(extents.end(), op.reductionSizes.begin(), op.reductionSizes.end());
  if (ir::accumulatesRows(op)) {
    // Rows of the result accumulate in place: the sums run outside the
    // result's innermost axis, whose loop walks the factors and the row
    // contiguously (and vectorizes); the outer result axes split across
    // threads.
    std::vector<int64_t> outer(shape.begin(), shape.end() - 1);
    int64_t row = shape.back();
    llvm::Value *zero = llvm::ConstantFP::get(f32(), 0.0);
    loopNest(outer, true, [&](const Loops &o) {
      Loops first = o;
      first.push_back(c64(0));
      llvm::Value *start = linear(shape, first);
      loop(c64(0), c64(row), [&](llvm::Value *j) { storeF32(r, b_->CreateAdd(start, j), zero); });
      loopNest(op.reductionSizes, false, [&](const Loops &red) {
        loop(c64(0), c64(row), [&](llvm::Value *j) {
          Loops all = o;
          all.push_back(j);
          all.insert(all.end(), red.begin(), red.end());
          llvm::Value *at = b_->CreateAdd(start, j);
          storeF32(r, at, b_->CreateFAdd(loadF32(r, at), product(all, extents)));
        });
      });
    });
    return;
  }
  llvm::Value *acc = accumulator(*this);
  loopNest(shape, true, [&](const Loops &out) {
    b_->CreateStore(llvm::ConstantFP::get(f32(), 0.0), acc);
    loopNest(op.reductionSizes, false, [&](const Loops &red) {
      Loops all = out;
      all.insert(all.end(), red.begin(), red.end());
      llvm::Value *sum = b_->CreateLoad(f32(), acc);
      b_->CreateStore(reassocAdd(*b_, sum, product(all, extents)), acc);
    });
    storeF32(r, shape.empty() ? c64(0) : linear(shape, out), b_->CreateLoad(f32(), acc));
  });
}

} // namespace gradc::codegen
