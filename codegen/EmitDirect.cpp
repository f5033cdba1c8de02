//===- codegen/EmitDirect.cpp - Convolutions as register-blocked loops -----===//
//
// A convolution through an im2col copy writes and reads back nine times its
// input; with few channels that copy costs more than the product. The
// direct form instead keeps the result's innermost axis (the output
// channels, N of them) in vector registers: for each output point
//
//   acc[0:N] = 0
//   for every reduction point r:  acc[0:N] += A[f(point, r)] * V[r, 0:N]
//   R[point, 0:N] = acc
//
// where V is the factor that reads the innermost result variable, stored
// with that axis innermost and contiguous (passes/PackContractions.cpp packs
// a convolution's small weight so), and A the other factor, read one
// element at a time through its map, zero padding included. U consecutive
// output points along the next axis share each load of V (register
// blocking: U·N/8 accumulators of 8 floats). The loops stay scalar for the
// vectorizer; the vector code is written here.
//
//===----------------------------------------------------------------------===//
#include "codegen/Emitter.h"

#include "ir/ContractShape.h"
#include "support/Assert.h"

#include <algorithm>

namespace gradc::codegen {

/// Sums at least this long get the wider register blocking.
constexpr int64_t kLongSum = 4096;

bool Emitter::isDirect(const ir::Op &op) const {
  int vf = ir::innermostVectorFactor(op);
  if (vf < 0 || op.reductionSizes.empty())
    return false;
  // V's innermost axis is exactly the result's innermost variable, over
  // its whole extent, and no other axis of V moves with it.
  int n = static_cast<int>(op.result()->type.rank()) - 1;
  const ir::IndexMap &vm = op.maps[vf];
  if (vm.empty() || !vm.back().pos.isVar(n) ||
      op.operand(vf)->type.shape.back() != op.result()->type.shape[n])
    return false;
  for (size_t a = 0; a + 1 < vm.size(); ++a)
    if (vm[a].pos.coeff(n) != 0)
      return false;
  return true;
}

void Emitter::emitDirect(const ir::Op &op) {
  const ir::Value *r = op.result();
  const std::vector<int64_t> &shape = r->type.shape;
  int R = static_cast<int>(shape.size());
  int64_t N = shape[R - 1];
  int vf = ir::innermostVectorFactor(op), af = 1 - vf;
  const ir::Value *vOp = op.operand(vf);
  std::vector<int64_t> extents = shape;
  extents.insert(extents.end(), op.reductionSizes.begin(), op.reductionSizes.end());

  // Register blocking along the axis before the innermost: U points. A
  // convolution's many short sums (9·16 terms) block 4 points of 16 floats,
  // which measured as fast as more. A product with few points and long sums
  // (a weight gradient: 144 points of 32768 terms) streams its inputs once
  // per block of points, so it blocks as many points as the vector registers
  // hold, up to 8 (more leaves too few blocks to share among threads).
  int64_t along = shape[R - 2];
  int64_t terms = 1;
  for (int64_t s : op.reductionSizes)
    terms *= s;
  int U = N <= 16 ? 4 : N <= 32 ? 2 : 1;
  if (terms >= kLongSum) {
    int64_t lanes = opts_.vectorRegisters >= 32 ? 16 : 8; // AVX-512 or AVX2
    int64_t regsPerPoint = (N + lanes - 1) / lanes;
    U = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(8, (opts_.vectorRegisters - 4) / regsPerPoint)));
  }
  if (R == 2)
    U = 1; // the blocked axis would be the one split across threads
  while (U > 1 && along % U != 0)
    --U;
  llvm::Type *vecTy = llvm::FixedVectorType::get(f32(), static_cast<unsigned>(N));
  llvm::Constant *zeroVec = llvm::ConstantAggregateZero::get(vecTy);

  // Accumulators live in allocas of vector type, which SROA turns into
  // registers carried through the reduction loops.
  std::vector<llvm::Value *> acc(U);
  {
    auto saved = b_->saveIP();
    llvm::BasicBlock &entry = ks_.fn->getEntryBlock();
    b_->SetInsertPoint(&entry, entry.getFirstInsertionPt());
    for (int u = 0; u < U; ++u)
      acc[u] = b_->CreateAlloca(vecTy, nullptr, "acc" + std::to_string(u));
    b_->restoreIP(saved);
  }

  // The reduction loops in the order A stores their variables (a
  // convolution's window rows outside, its channels innermost), so that the
  // innermost loop walks A contiguously.
  int nRed = static_cast<int>(op.reductionSizes.size());
  std::vector<int> redOrder(nRed), key(nRed, -1);
  const ir::IndexMap &am = op.maps[af];
  for (size_t a = 0; a < am.size(); ++a)
    for (auto &[var, c] : am[a].pos.terms)
      if (var >= R)
        key[var - R] = static_cast<int>(a);
  for (int i = 0; i < nRed; ++i)
    redOrder[i] = i;
  std::stable_sort(redOrder.begin(), redOrder.end(), [&](int a, int b) { return key[a] < key[b]; });
  std::vector<int64_t> redExtents;
  for (int i : redOrder)
    redExtents.push_back(op.reductionSizes[i]);

  // The outer loops: the result's axes but the innermost, the one before it
  // stepping by U.
  std::vector<int64_t> outer(shape.begin(), shape.end() - 1);
  outer[R - 2] = along / U;
  loopNest(outer, true, [&](const Loops &o) {
    for (int u = 0; u < U; ++u)
      b_->CreateStore(zeroVec, acc[u]);
    auto pointOf = [&](const Loops &red, int u) {
      Loops all = o;
      all[R - 2] = b_->CreateAdd(b_->CreateMul(o[R - 2], c64(U)), c64(u));
      all.push_back(c64(0)); // the innermost variable: V's row starts at 0
      all.insert(all.end(), red.begin(), red.end());
      return all;
    };
    loopNest(redExtents, false, [&](const Loops &inOrder) {
      Loops red(inOrder.size());
      for (size_t i = 0; i < redOrder.size(); ++i)
        red[redOrder[i]] = inOrder[i];
      for (int u = 0; u < U; ++u) {
        Loops at = pointOf(red, u);
        // V's row of N floats, 0 where its other axes leave the tensor.
        Access va = access(op, op.maps[vf], vOp->type.shape, at, extents);
        // Rows start at multiples of N floats: aligned to 4 bytes only, as
        // far as the type system knows.
        llvm::Value *row = b_->CreateAlignedLoad(
            vecTy, b_->CreateGEP(f32(), base(vOp), va.offset), llvm::Align(4), "row");
        tagged(llvm::cast<llvm::Instruction>(row), vOp);
        if (va.inBounds)
          row = b_->CreateSelect(va.inBounds, row, zeroVec);
        llvm::Value *a = readThrough(op, af, op.maps[af], at, extents);
        llvm::Value *splat = b_->CreateVectorSplat(static_cast<unsigned>(N), a);
        llvm::Value *sum = b_->CreateLoad(vecTy, acc[u]);
        b_->CreateStore(b_->CreateFAdd(sum, b_->CreateFMul(splat, row)), acc[u]);
      }
    });
    for (int u = 0; u < U; ++u) {
      Loops at = pointOf({}, u);
      at.resize(R);
      llvm::Value *dst = b_->CreateGEP(f32(), base(r), linear(shape, at));
      tagged(b_->CreateAlignedStore(b_->CreateLoad(vecTy, acc[u]), dst, llvm::Align(4)), r);
    }
  });
}

} // namespace gradc::codegen
