//===- passes/ReductionForms.cpp - Sums as contractions, split for threads -===//
//
// Native code sums in one form, the plain contraction, whose loop order the
// code generator chooses (ir::accumulatesRows: a sum over the leading axes
// of [b, x, y, c] into [c] accumulates rows of c, walking memory once and
// contiguously) and into which it computes single-use elementwise operands
// (codegen/Inlined.h). A reduce_sum, and a scatter_add that places each
// result axis at its own source axis (the gradient of a broadcast: a bias's,
// a batch norm's statistics'), are contractions of one factor and become
// them, so that all three share that code. The other way round, a
// contraction of one factor with nothing to sum (the adjoint of a mean
// broadcasts [c] over [b, x, y, c]) is a remap, which its elementwise
// readers read in place as a view.
//
// A sum into a few rows of its result has little to share among threads,
// which split the rows. A large one is computed as P partial sums over
// slices of its outermost summed variable, then one small sum of the
// partials:
//
//   Σ_{b,x,y} X[b, x, y, c]  =  Σ_p ( Σ_{b',x,y} X[p·(B/P) + b', x, y, c] )
//
// P (at most 16, a divisor of that variable's extent) depends on the shapes
// alone, so the result does not depend on the number of threads.
//
//===----------------------------------------------------------------------===//
#include "passes/ReductionForms.h"

#include "ir/ContractShape.h"
#include "ir/Rewrite.h"

namespace gradc::passes {

using namespace ir;

namespace {

/// Rows of the result below which a row-accumulating sum is split.
constexpr int64_t kMinRows = 16;
/// The most partial sums; also the least work (multiply-adds) worth splitting.
constexpr int64_t kMaxParts = 16;
constexpr int64_t kMinSplitWork = 1 << 16;

/// reduce_sum x over `axes` = contract x[kept as result axes, reduced as sums].
Value *sumAsContract(Graph &g, Op &op) {
  const Value *x = op.operand(0);
  std::vector<bool> reduced(x->type.rank(), false);
  for (int a : op.axes)
    reduced[a] = true;
  int R = static_cast<int>(op.result()->type.rank());
  IndexMap map;
  std::vector<int64_t> sums;
  int kept = 0;
  for (int a = 0; a < x->type.rank(); ++a)
    if (reduced[a]) {
      map.push_back({Affine::var(R + static_cast<int>(sums.size())), -1, {}});
      sums.push_back(x->type.shape[a]);
    } else {
      map.push_back({Affine::var(kept++), -1, {}});
    }
  Builder B = builderBefore(g, op);
  Value *r = B.contract({op.operand(0)}, {map}, op.result()->type.shape, sums);
  replaceResult(g, B, op, r);
  return r;
}

/// A scatter_add whose map sends each result axis to a distinct source axis
/// of the same extent is the sum over the source's other axes; null if the
/// map does anything else (shifts, strides, indirect positions).
Value *scatterAsContract(Graph &g, Op &op) {
  if (op.operands.size() != 1 || !op.symbols.empty())
    return nullptr;
  const Value *x = op.operand(0);
  const std::vector<int64_t> &shape = op.result()->type.shape;
  int R = static_cast<int>(shape.size());
  std::vector<int> placedAt(x->type.rank(), -1);
  for (int a = 0; a < R; ++a) {
    const AxisIndex &ax = op.maps[0][a];
    if (ax.isIndirect() || ax.pos.terms.size() != 1)
      return nullptr;
    int v = ax.pos.terms[0].first;
    if (!ax.pos.isVar(v) || v < 0 || placedAt[v] >= 0 || x->type.shape[v] != shape[a])
      return nullptr;
    placedAt[v] = a;
  }
  IndexMap map;
  std::vector<int64_t> sums;
  for (int v = 0; v < x->type.rank(); ++v)
    if (placedAt[v] >= 0) {
      map.push_back({Affine::var(placedAt[v]), -1, {}});
    } else {
      map.push_back({Affine::var(R + static_cast<int>(sums.size())), -1, {}});
      sums.push_back(x->type.shape[v]);
    }
  if (sums.empty())
    return nullptr; // a permutation: Simplify's gathers handle it
  Builder B = builderBefore(g, op);
  Value *r = B.contract({op.operand(0)}, {map}, shape, sums);
  replaceResult(g, B, op, r);
  return r;
}

/// A contraction of one factor with nothing to sum is a remap (the adjoint
/// of a mean, broadcasting [c] over [b, x, y, c]): as a remap, a view its
/// elementwise readers read in place (codegen/Inlined.h) instead of a
/// stored copy.
bool broadcastAsRemap(Graph &g, Op &op) {
  if (op.kind != OpKind::Contract || op.operands.size() != 1 || !op.outMap.empty() ||
      !op.reductionSizes.empty())
    return false;
  for (const AxisIndex &ax : op.maps[0])
    if (ax.isIndirect())
      return false;
  Builder B = builderBefore(g, op);
  Value *r = B.remap(op.operand(0), op.maps[0], op.result()->type.shape, {}, op.symbols);
  replaceResult(g, B, op, r);
  return true;
}

/// Splits a large row-accumulating sum into partial sums (file comment).
bool splitForThreads(Graph &g, Op &op) {
  if (!accumulatesRows(op) || !op.symbols.empty())
    return false;
  const std::vector<int64_t> &shape = op.result()->type.shape;
  int R = static_cast<int>(shape.size());
  int64_t rows = 1, work = op.result()->type.numElements();
  for (int a = 0; a + 1 < R; ++a)
    rows *= shape[a];
  for (int64_t s : op.reductionSizes)
    work *= s;
  if (rows >= kMinRows || work < kMinSplitWork)
    return false;
  // Every factor reads every result variable (an aligned product, not a
  // matrix product, whose tiers split otherwise), plainly.
  for (const IndexMap &m : op.maps) {
    std::vector<bool> reads(R, false);
    for (const AxisIndex &ax : m) {
      if (ax.isIndirect())
        return false;
      for (auto &[v, c] : ax.pos.terms)
        if (v >= 0 && v < R && ax.pos.isVar(v))
          reads[v] = true;
    }
    for (bool r : reads)
      if (!r)
        return false;
  }
  // The summed variable split: the one the first factor stores outermost,
  // with a divisor in [2, kMaxParts].
  int chosen = -1;
  int64_t parts = 1;
  const IndexMap &m0 = op.maps[0];
  for (size_t a = 0; a < m0.size() && chosen < 0; ++a)
    for (auto &[v, c] : m0[a].pos.terms) {
      if (v < R)
        continue;
      int64_t extent = op.reductionSizes[v - R];
      for (int64_t p = std::min(kMaxParts, extent / 2); p >= 2; --p)
        if (extent % p == 0) {
          chosen = v;
          parts = p;
          break;
        }
      if (chosen >= 0)
        break;
    }
  if (chosen < 0)
    return false;
  int64_t slice = op.reductionSizes[chosen - R] / parts;
  // Partials: loop variables [p, result..., sums...], the chosen sum over a slice.
  std::vector<int> shifted(R + op.reductionSizes.size());
  for (size_t v = 0; v < shifted.size(); ++v)
    shifted[v] = static_cast<int>(v) + 1;
  std::vector<IndexMap> maps = op.maps;
  for (IndexMap &m : maps)
    for (AxisIndex &ax : m) {
      int64_t c = ax.pos.coeff(chosen);
      ax.pos = ax.pos.renumbered(shifted);
      ax.pos.add(0, c * slice); // the chosen variable v becomes p·slice + v'
    }
  std::vector<int64_t> partShape{parts}, sums = op.reductionSizes;
  partShape.insert(partShape.end(), shape.begin(), shape.end());
  sums[chosen - R] = slice;
  Builder B = builderBefore(g, op);
  Value *partial = B.contract(op.operands, maps, partShape, sums);
  IndexMap total{{Affine::var(R), -1, {}}};
  for (int a = 0; a < R; ++a)
    total.push_back({Affine::var(a), -1, {}});
  Value *r = B.contract({partial}, {total}, shape, {parts});
  replaceResult(g, B, op, r);
  return true;
}

} // namespace

int formReductions(Graph &g) {
  int n = 0;
  // A rewritten op is left unused; dead-code elimination removes it.
  for (Op *op : allOps(g.top)) {
    Value *c = nullptr;
    if (op->kind == OpKind::ReduceSum)
      c = sumAsContract(g, *op);
    else if (op->kind == OpKind::ScatterAdd)
      c = scatterAsContract(g, *op);
    if (c) {
      op = c->def;
      ++n;
    }
    if (broadcastAsRemap(g, *op))
      ++n;
    else if (op->kind == OpKind::Contract)
      n += splitForThreads(g, *op);
  }
  return n;
}

} // namespace gradc::passes
