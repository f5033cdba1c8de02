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
#include <functional>

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

/// floor(a / d) for d > 0 and a of either sign (sdiv truncates toward 0).
static llvm::Value *floorDiv(llvm::IRBuilder<> &b, llvm::Value *a, int64_t d) {
  llvm::Value *q = b.CreateSDiv(a, b.getInt64(d));
  llvm::Value *inexact = b.CreateICmpNE(b.CreateMul(q, b.getInt64(d)), a);
  llvm::Value *neg = b.CreateICmpSLT(a, b.getInt64(0));
  return b.CreateSub(q, b.CreateZExt(b.CreateAnd(inexact, neg), b.getInt64Ty()));
}

void Emitter::clipToAxis(const ir::Affine &pos, int var, int R, const Loops &outer, int64_t size,
                         std::vector<llvm::Value *> &lo, std::vector<llvm::Value *> &hi) {
  // pos = c·r + rest, rest from the outer loops; 0 <= pos <= size - 1.
  int64_t c = pos.coeff(R + var);
  llvm::Value *rest = c64(pos.constant);
  for (auto &[v, k] : pos.terms)
    if (v < R)
      rest = b_->CreateAdd(rest, b_->CreateMul(outer[v], c64(k)));
  llvm::Value *first, *last; // the least and greatest r inside
  llvm::Value *top = b_->CreateSub(c64(size - 1), rest);
  if (c > 0) {                                     // -rest <= c·r <= size - 1 - rest
    first = b_->CreateNeg(floorDiv(*b_, rest, c)); // ceil(-rest / c)
    last = floorDiv(*b_, top, c);
  } else { // c·r >= -rest, so r <= rest / -c; c·r <= top, so r >= -top / -c
    first = b_->CreateNeg(floorDiv(*b_, top, -c));
    last = floorDiv(*b_, rest, -c);
  }
  auto smax = [&](llvm::Value *x, llvm::Value *y) {
    return b_->CreateSelect(b_->CreateICmpSGT(x, y), x, y);
  };
  auto smin = [&](llvm::Value *x, llvm::Value *y) {
    return b_->CreateSelect(b_->CreateICmpSLT(x, y), x, y);
  };
  lo[var] = smax(lo[var], first);
  hi[var] = smin(hi[var], b_->CreateAdd(last, c64(1)));
}

llvm::Value *Emitter::blockInside(const ir::Op &op, int af, const Loops &outer, int U,
                                  const std::vector<int64_t> &extents,
                                  const std::vector<bool> &skip) {
  const ir::IndexMap &am = op.maps[af];
  const std::vector<int64_t> &shape = op.operand(af)->type.shape;
  int R = static_cast<int>(op.result()->type.rank());
  llvm::Value *all = nullptr;
  for (size_t a = 0; a < am.size(); ++a) {
    auto [lo, hi] = range(op, am[a].pos, extents);
    if ((lo >= 0 && hi < shape[a]) || skip[a])
      continue; // always inside
    // The least and greatest position over the block's points (the blocked
    // axis from outer·U to outer·U + U - 1) and every reduction point.
    llvm::Value *least = c64(am[a].pos.constant), *most = least;
    for (auto &[v, c] : am[a].pos.terms) {
      GRADC_ASSERT(v >= 0 && v != R - 1, "a direct factor read through a step or the row axis");
      int64_t span = v >= R ? c * (extents[v] - 1) : v == R - 2 ? c * (U - 1) : 0;
      llvm::Value *at = c64(0);
      if (v < R)
        at = b_->CreateMul(v == R - 2 ? b_->CreateMul(outer[v], c64(U)) : outer[v], c64(c));
      least = b_->CreateAdd(least, b_->CreateAdd(at, c64(std::min<int64_t>(0, span))));
      most = b_->CreateAdd(most, b_->CreateAdd(at, c64(std::max<int64_t>(0, span))));
    }
    llvm::Value *ok =
        b_->CreateAnd(b_->CreateICmpSGE(least, c64(0)), b_->CreateICmpSLT(most, c64(shape[a])));
    all = all ? b_->CreateAnd(all, ok) : ok;
  }
  return all;
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
    U = static_cast<int>(
        std::max<int64_t>(1, std::min<int64_t>(8, (opts_.vectorRegisters - 4) / regsPerPoint)));
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

  // Axes of A whose one summed variable can be kept inside by clipping its
  // loop (x + dx - 1 in a weight gradient, which sums over x: x runs from
  // 1 - dx): no other summed variable and not the blocked one, whose points
  // share the loops.
  std::vector<int> clipBy(am.size(), -1);
  std::vector<bool> clipped(am.size(), false);
  for (size_t a = 0; a < am.size(); ++a) {
    auto [lo, hi] = range(op, am[a].pos, extents);
    if ((lo >= 0 && hi < op.operand(af)->type.shape[a]) || am[a].isIndirect())
      continue;
    int sums = 0, var = -1;
    bool blocked = false;
    for (auto &[v, c] : am[a].pos.terms) {
      blocked = blocked || v == R - 2 || v < 0;
      if (v >= R) {
        ++sums;
        var = v - R;
      }
    }
    if (sums == 1 && !blocked) {
      clipBy[a] = var;
      clipped[a] = true;
    }
  }

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
    auto accumulate = [&](const Loops &red) {
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
        llvm::Value *a = readThrough(op, af, am, at, extents);
        llvm::Value *splat = b_->CreateVectorSplat(static_cast<unsigned>(N), a);
        llvm::Value *sum = b_->CreateLoad(vecTy, acc[u]);
        b_->CreateStore(b_->CreateFAdd(sum, b_->CreateFMul(splat, row)), acc[u]);
      }
    };
    // Clipped bounds of the reduction loops (all of them unless clipped).
    std::vector<llvm::Value *> redLo(nRed, c64(0)), redHi(nRed);
    for (int i = 0; i < nRed; ++i)
      redHi[i] = c64(op.reductionSizes[i]);
    for (size_t a = 0; a < am.size(); ++a)
      if (clipBy[a] >= 0)
        clipToAxis(am[a].pos, clipBy[a], R, o, op.operand(af)->type.shape[a], redLo, redHi);
    auto reduce = [&] {
      Loops red(nRed);
      std::function<void(int)> level = [&](int d) {
        if (d == nRed) {
          accumulate(red);
          return;
        }
        int v = redOrder[d];
        loop(
            redLo[v], redHi[v],
            [&](llvm::Value *i) {
              red[v] = i;
              level(d + 1);
            },
            "r" + std::to_string(v));
      };
      level(0);
    };
    // Where the whole block reads inside A on the axes not clipped (a
    // convolution's interior, all but a one-point frame for a 3×3 kernel),
    // a copy of the loops without bounds tests runs: each A element is then
    // a plain load LLVM folds into the multiply-add as a broadcast operand.
    trustedMap_ = &am;
    trustedAxes_ = clipped;
    if (llvm::Value *interior = blockInside(op, af, o, U, extents, clipped)) {
      auto *inside = llvm::BasicBlock::Create(*lctx_, "interior", ks_.fn);
      auto *border = llvm::BasicBlock::Create(*lctx_, "border", ks_.fn);
      auto *join = llvm::BasicBlock::Create(*lctx_, "summed", ks_.fn);
      b_->CreateCondBr(interior, inside, border);
      b_->SetInsertPoint(inside);
      trustedAxes_.assign(am.size(), true);
      reduce();
      trustedAxes_ = clipped;
      b_->CreateBr(join);
      b_->SetInsertPoint(border);
      reduce();
      b_->CreateBr(join);
      b_->SetInsertPoint(join);
    } else {
      reduce();
    }
    trustedMap_ = nullptr;
    for (int u = 0; u < U; ++u) {
      Loops at = pointOf({}, u);
      at.resize(R);
      llvm::Value *dst = b_->CreateGEP(f32(), base(r), linear(shape, at));
      tagged(b_->CreateAlignedStore(b_->CreateLoad(vecTy, acc[u]), dst, llvm::Align(4)), r);
    }
  });
}

} // namespace gradc::codegen
