//===- passes/PackContractions.cpp - Contractions into GEMM form -----------===//
//
// A plain contraction's loop variables (result axes, then reduction axes)
// fall into four groups by where they appear:
//
//   batch  result variables both factors read
//   M      result variables only the first factor reads
//   N      result variables only the second factor reads
//   K      reduction variables both factors read
//
// The GEMM tier (codegen/EmitGemm.cpp) needs each factor laid out with its
// groups as contiguous runs of axes indexed by plain variables. A factor
// that is not ("packed" below) is copied by one remap into the layout
// [batch..., M or N..., K...] or [batch..., K..., M or N...], its variables
// within each group in the order the largest factor stores them
// (followLargestFactor); the copy reads through the factor's own index map,
// so zero padding and offsets survive. A convolution's input becomes its im2col matrix. The
// contraction then reads the copies through identity maps; when its result
// axes are not in [batch, M, N] order it computes that order and a remap
// transposes back.
//
//===----------------------------------------------------------------------===//
#include "passes/PackContractions.h"

#include "ir/Builder.h"
#include "ir/ContractShape.h"
#include "ir/Rewrite.h"
#include "support/Assert.h"

#include <algorithm>
#include <optional>

namespace gradc::passes {

using namespace ir;

namespace {

enum Group { Batch, M, N, K, None };

struct Plan {
  std::vector<Group> group;  ///< per loop variable
  std::vector<int64_t> extent;
  std::vector<int> order;    ///< loop variables in canonical order: batch, M, N, K
};

/// The loop variables an affine position uses.
std::vector<int> varsOf(const Affine &a) {
  std::vector<int> r;
  for (auto &[v, c] : a.terms)
    if (v >= 0)
      r.push_back(v);
  return r;
}

/// The variables `m` reads when each of its axes is one plain variable and
/// none repeats (a weight's map, W[k, j, dx, dy]); nullopt otherwise.
std::optional<std::vector<int>> plainVars(const IndexMap &m) {
  std::vector<int> vars;
  for (const AxisIndex &ax : m) {
    std::vector<int> vs = varsOf(ax.pos);
    if (ax.isIndirect() || vs.size() != 1 || !ax.pos.isVar(vs[0]) ||
        std::find(vars.begin(), vars.end(), vs[0]) != vars.end())
      return std::nullopt;
    vars.push_back(vs[0]);
  }
  return vars;
}

/// True when an axis of `m` moves with two or more variables: a window
/// (L[b, x + dx - 1, ...]).
bool readsWindow(const IndexMap &m) {
  for (const AxisIndex &ax : m)
    if (varsOf(ax.pos).size() >= 2)
      return true;
  return false;
}

/// `first`: the operand that plays the first factor (M's); the other plays
/// the second (N's).
bool classify(const Op &op, int first, Plan &p) {
  int R = static_cast<int>(op.result()->type.rank());
  p.extent = op.result()->type.shape;
  p.extent.insert(p.extent.end(), op.reductionSizes.begin(), op.reductionSizes.end());
  int L = static_cast<int>(p.extent.size());
  std::vector<int> in(L, 0); // bit 1: first factor, bit 2: second
  for (int f = 0; f < 2; ++f)
    for (const AxisIndex &ax : op.maps[f == 0 ? first : 1 - first]) {
      if (ax.isIndirect())
        return false;
      for (int v : varsOf(ax.pos))
        in[v] |= 1 << f;
    }
  p.group.assign(L, None);
  for (int v = 0; v < L; ++v) {
    if (p.extent[v] == 1 && in[v] == 0)
      continue; // a unit axis placed by nothing
    if (v < R)
      p.group[v] = in[v] == 3 ? Batch : in[v] == 1 ? M : in[v] == 2 ? N : None;
    else
      p.group[v] = in[v] == 3 ? K : None;
    if (p.group[v] == None)
      return false; // a broadcast or a sum over one factor: not a product
  }
  for (Group g : {Batch, M, N, K})
    for (int v = 0; v < L; ++v)
      if (p.group[v] == g)
        p.order.push_back(v);
  return true;
}

/// The number of elements a copy of operand `k` in GEMM layout would hold:
/// the product of the extents of the loop variables its map reads.
int64_t copyVolume(const Op &op, int k, const Plan &p) {
  std::vector<bool> used(p.extent.size(), false);
  for (const AxisIndex &ax : op.maps[k])
    for (int v : varsOf(ax.pos))
      used[v] = true;
  int64_t n = 1;
  for (size_t v = 0; v < used.size(); ++v)
    if (used[v])
      n *= p.extent[v];
  return n;
}

/// Orders the variables within each group as the largest factor stores
/// them: a variable it reads in a later axis comes later. Its copy (a
/// convolution's im2col matrix) then moves contiguous runs of its innermost
/// axis, and the forward convolution's copy of an input and its weight
/// gradient's copy of the same input come out identical, so simplification
/// keeps one. The result groups (M, N) are reordered only when the result is
/// smaller than that copy, since a result out of order is transposed back.
/// `kLast[f]` tells whether factor f's copy is laid out [batch, own, K]
/// (true) or [batch, K, own], whichever keeps the largest factor's innermost
/// axis innermost.
void followLargestFactor(const Op &op, int first, Plan &p, bool kLast[2]) {
  int big = copyVolume(op, 0, p) >= copyVolume(op, 1, p) ? 0 : 1;
  std::vector<int> key(p.extent.size(), -1);
  const IndexMap &m = op.maps[big];
  for (size_t a = 0; a < m.size(); ++a)
    for (int v : varsOf(m[a].pos))
      key[v] = static_cast<int>(a);
  bool reorderResult = op.result()->type.numElements() < copyVolume(op, big, p);
  std::vector<int> order;
  for (Group g : {Batch, M, N, K}) {
    std::vector<int> vs;
    for (int v : p.order)
      if (p.group[v] == g)
        vs.push_back(v);
    if (g == K || reorderResult)
      std::stable_sort(vs.begin(), vs.end(), [&](int a, int b) { return key[a] < key[b]; });
    order.insert(order.end(), vs.begin(), vs.end());
  }
  p.order = order;
  auto maxKey = [&](Group g) {
    int r = -1;
    for (int v : p.order)
      if (p.group[v] == g)
        r = std::max(r, key[v]);
    return r;
  };
  int f = big == first ? 0 : 1; // the factor `big` plays
  kLast[f] = maxKey(K) >= maxKey(f == 0 ? M : N);
}

/// True when factor `f` already reads [batch, own, K] (or [batch, K, own])
/// through plain variables, ascending within each group, at full extent.
bool canonical(const Op &op, int first, int f, const Plan &p) {
  const IndexMap &m = op.maps[f == 0 ? first : 1 - first];
  const std::vector<int64_t> &shape = op.operand(f == 0 ? first : 1 - first)->type.shape;
  std::vector<int> seq;
  for (size_t a = 0; a < m.size(); ++a) {
    std::vector<int> vs = varsOf(m[a].pos);
    if (vs.empty())
      continue; // a fixed position (a step's slice): a base offset
    if (vs.size() != 1 || m[a].pos.coeff(vs[0]) != 1 || m[a].pos.constant != 0 ||
        m[a].pos.terms.size() != 1 || shape[a] != p.extent[vs[0]])
      return false;
    seq.push_back(vs[0]);
  }
  Group own = f == 0 ? M : N;
  auto groupSeq = [&](std::initializer_list<Group> gs) {
    std::vector<int> r;
    for (Group g : gs)
      for (int v : p.order)
        if (p.group[v] == g)
          r.push_back(v);
    return r;
  };
  return seq == groupSeq({Batch, own, K}) || seq == groupSeq({Batch, K, own});
}

/// A contraction whose output map sends each result axis to a distinct
/// loop variable of the axis's extent (the gradient of a convolution's
/// weights, W[k, j, dx, dy] += ..., or of a broadcast) is a plain
/// contraction over those variables: renumbers it so, in place. A plain
/// contraction runs in parallel over its result and needs no zero fill.
bool makePlain(Op &op) {
  if (op.kind != OpKind::Contract || op.outMap.empty())
    return false;
  const std::vector<int64_t> &shape = op.result()->type.shape;
  int L = static_cast<int>(op.reductionSizes.size());
  std::vector<int> to(L, -1);
  for (size_t a = 0; a < op.outMap.size(); ++a) {
    const AxisIndex &ax = op.outMap[a];
    if (ax.isIndirect() || ax.pos.constant != 0 || ax.pos.terms.size() != 1)
      return false;
    auto [v, c] = ax.pos.terms[0];
    if (v < 0 || c != 1 || to[v] >= 0 || op.reductionSizes[v] != shape[a])
      return false;
    to[v] = static_cast<int>(a);
  }
  std::vector<int64_t> reductions;
  int next = static_cast<int>(shape.size());
  for (int v = 0; v < L; ++v)
    if (to[v] < 0) {
      to[v] = next++;
      reductions.push_back(op.reductionSizes[v]);
    }
  renumberLoops(op.maps, to);
  op.outMap.clear();
  op.reductionSizes = reductions;
  return true;
}

/// A contraction whose output map writes a slice at a fixed position (the
/// gradient of a step's input, `-> [r0, %t, r2]`: the other axes each one
/// loop variable over its whole extent) is a plain contraction into that
/// slice, with unit axes at the fixed positions, and a remap placing it
/// (reading 0 off the slice, as the zero fill did). The product can then go
/// to the GEMM tier instead of accumulating point by point. Returns the
/// plain contraction, or null.
Op *sliceToPlain(Graph &g, Op &op) {
  if (op.kind != OpKind::Contract || op.outMap.empty())
    return nullptr;
  const std::vector<int64_t> &shape = op.result()->type.shape;
  int L = static_cast<int>(op.reductionSizes.size());
  std::vector<int> to(L, -1); // loop variable -> the result axis it runs along
  bool fixed = false;
  for (size_t a = 0; a < op.outMap.size(); ++a) {
    const AxisIndex &ax = op.outMap[a];
    if (ax.isIndirect())
      return nullptr;
    std::vector<int> vs = varsOf(ax.pos);
    if (vs.empty()) {
      fixed = true; // a constant or step position
      continue;
    }
    if (!ax.pos.isVar(vs[0]) || to[vs[0]] >= 0 || op.reductionSizes[vs[0]] != shape[a])
      return nullptr;
    to[vs[0]] = static_cast<int>(a);
  }
  if (!fixed)
    return nullptr; // makePlain's case
  // The slice's loops: the result axes (unit ones at fixed positions), then
  // the remaining variables as reductions.
  std::vector<int64_t> sliceShape, reductions;
  int R = static_cast<int>(shape.size());
  for (int a = 0; a < R; ++a)
    sliceShape.push_back(varsOf(op.outMap[a].pos).empty() ? 1 : shape[a]);
  int next = R;
  for (int v = 0; v < L; ++v)
    if (to[v] < 0) {
      to[v] = next++;
      reductions.push_back(op.reductionSizes[v]);
    }
  std::vector<IndexMap> maps = op.maps;
  renumberLoops(maps, to);
  Builder B = builderBefore(g, op);
  Value *slice = B.contract(op.operands, maps, sliceShape, reductions, op.symbols);
  IndexMap place;
  for (int a = 0; a < R; ++a) {
    Affine pos = Affine::var(a);
    if (varsOf(op.outMap[a].pos).empty())
      pos = pos.plus(op.outMap[a].pos.scaled(-1)); // e_a - position: 0 only there
    place.push_back({pos, -1, {}});
  }
  Value *placed = B.remap(slice, place, shape, {}, op.symbols);
  replaceResult(g, B, op, placed);
  return slice->def;
}

/// A plain contraction of three or more factors is split so that the one
/// that is left is a product of two: a factor reading result variables only
/// is multiplied in after the sum, and two factors reading the same loop
/// variables (a GRU's W[j, i]·r[b, i]·h[b, t-1, i]) are multiplied first.
/// Returns the contraction that still has the sum (one factor fewer), or
/// null.
Op *splitProduct(Graph &g, Op &op) {
  if (op.kind != OpKind::Contract || !op.outMap.empty() || op.operands.size() < 3)
    return nullptr;
  std::vector<int64_t> extent = op.result()->type.shape;
  extent.insert(extent.end(), op.reductionSizes.begin(), op.reductionSizes.end());
  auto varSet = [&](size_t f) {
    std::vector<int> vs;
    for (const AxisIndex &ax : op.maps[f]) {
      if (ax.isIndirect())
        return std::vector<int>{-1};
      for (int v : varsOf(ax.pos))
        vs.push_back(v);
    }
    std::sort(vs.begin(), vs.end());
    if (std::adjacent_find(vs.begin(), vs.end()) != vs.end())
      return std::vector<int>{-1}; // a variable twice: a diagonal
    return vs;
  };
  size_t n = op.operands.size();
  int R = static_cast<int>(op.result()->type.rank());
  // A factor that reads result variables only (h[b, i] in Σ_j g[b, j]·W[j, i]·h[b, i])
  // does not take part in the sum: multiply it in afterwards.
  for (size_t f = 0; f < n; ++f) {
    std::vector<int> vf = varSet(f);
    if (vf.empty() || vf[0] < 0 || vf.back() >= R)
      continue;
    Builder B = builderBefore(g, op);
    std::vector<Value *> rest;
    std::vector<IndexMap> restMaps;
    for (size_t k = 0; k < n; ++k)
      if (k != f) {
        rest.push_back(op.operand(k));
        restMaps.push_back(op.maps[k]);
      }
    Value *sum = B.contract(rest, restMaps, op.result()->type.shape, op.reductionSizes,
                            op.symbols);
    Value *r = B.contract({op.operand(f), sum}, {op.maps[f], identityMap(R)},
                          op.result()->type.shape, {}, op.symbols);
    replaceResult(g, B, op, r);
    return sum->def;
  }
  for (size_t i = 0; i < n; ++i)
    for (size_t j = i + 1; j < n; ++j) {
      std::vector<int> vi = varSet(i), vj = varSet(j);
      if (vi != vj || vi.empty() || vi[0] < 0)
        continue;
      Builder B = builderBefore(g, op);
      // The product's loops are the shared variables, in ascending order.
      std::vector<int> local(extent.size(), -1);
      std::vector<int64_t> shape;
      for (size_t k = 0; k < vi.size(); ++k) {
        local[vi[k]] = static_cast<int>(k);
        shape.push_back(extent[vi[k]]);
      }
      auto renumber = [&](const IndexMap &m) {
        IndexMap r;
        for (const AxisIndex &ax : m)
          r.push_back({ax.pos.renumbered(local), -1, {}});
        return r;
      };
      Value *prod = B.contract({op.operand(i), op.operand(j)},
                               {renumber(op.maps[i]), renumber(op.maps[j])}, shape, {},
                               op.symbols);
      IndexMap pm;
      for (int v : vi)
        pm.push_back({Affine::var(v), -1, {}});
      std::vector<Value *> factors{prod};
      std::vector<IndexMap> maps{pm};
      for (size_t k = 0; k < n; ++k)
        if (k != i && k != j) {
          factors.push_back(op.operand(k));
          maps.push_back(op.maps[k]);
        }
      Value *r = B.contract(factors, maps, op.result()->type.shape, op.reductionSizes,
                            op.symbols);
      replaceResult(g, B, op, r);
      return r->def;
    }
  return nullptr;
}

int64_t flopsOf(const Op &op) {
  int64_t n = op.result()->type.numElements();
  for (int64_t r : op.reductionSizes)
    n *= r;
  return n;
}

/// The direct form of a convolution (codegen/EmitDirect.cpp): when the
/// result's innermost variable n (8..64 of them, a multiple of 8: output
/// channels) is read by one factor V alone, and the other factor A reads a
/// window (an axis moved by two variables, x + dx), no im2col copy of A is
/// made: V (the small weight) is copied with n innermost and its other
/// variables in the order A stores them, and the product runs with n in
/// vector registers, A read through its map. Returns whether it applied.
bool packDirect(Graph &g, Op &op) {
  int vf = innermostVectorFactor(op);
  if (vf < 0)
    return false;
  const std::vector<int64_t> &shape = op.result()->type.shape;
  int n = static_cast<int>(shape.size()) - 1;
  const IndexMap &am = op.maps[1 - vf], &vm = op.maps[vf];
  // V must read plain variables (a weight), each once.
  std::optional<std::vector<int>> plain = plainVars(vm);
  if (!readsWindow(am) || !plain)
    return false;
  const std::vector<int> &vars = *plain;
  std::vector<int> key(shape.size() + op.reductionSizes.size(), -1);
  for (size_t a = 0; a < am.size(); ++a)
    for (int v : varsOf(am[a].pos))
      key[v] = static_cast<int>(a);
  key[n] = static_cast<int>(am.size()); // innermost
  std::vector<int> order = vars;
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return key[a] < key[b]; });
  if (order != vars) {
    std::vector<int64_t> extent = shape;
    extent.insert(extent.end(), op.reductionSizes.begin(), op.reductionSizes.end());
    std::vector<int> local(extent.size(), -1);
    std::vector<int64_t> packedShape;
    for (size_t i = 0; i < order.size(); ++i) {
      local[order[i]] = static_cast<int>(i);
      packedShape.push_back(extent[order[i]]);
    }
    IndexMap read, reread;
    for (int v : vars)
      read.push_back({Affine::var(local[v]), -1, {}});
    for (int v : order)
      reread.push_back({Affine::var(v), -1, {}});
    Builder B = builderBefore(g, op);
    Value *packed = B.remap(op.operand(vf), read, packedShape);
    B.name(packed, op.operand(vf)->name + ".packed");
    op.operands[vf] = packed;
    op.maps[vf] = reread;
  }
  return true;
}

/// A convolution's weight gradient, dW[dx, dy, j, k] = Σ_{b,x,y} L[b, x+dx, y+dy, j]·G[b, x, y, k],
/// reads a window of L whose moving variables include result variables
/// (dx), and G, the output gradient, stores the output channels k
/// innermost. Computed with k as the result's innermost axis, it takes the
/// direct form (packDirect): G's rows of k stay in vector registers while
/// the large sum over b, x, y streams L and G once per block of results,
/// where the GEMM form first copies L's nine shifted images (im2col). So
/// when the direct form does not apply as the result is ordered, and some
/// factor V reads plain variables whose innermost is a result variable of
/// 8..64 entries (a multiple of 8) that the other factor A does not read,
/// while A reads a window: the product is computed with that variable
/// innermost and A's other result variables in the order A stores them, and
/// a remap transposes it back (a small tensor: the weights' shape). Returns
/// the reordered contraction, or null.
Op *orderForDirect(Graph &g, Op &op) {
  if (op.kind != OpKind::Contract || !op.outMap.empty() || op.operands.size() != 2 ||
      !op.symbols.empty() || innermostVectorFactor(op) >= 0)
    return nullptr;
  const std::vector<int64_t> &shape = op.result()->type.shape;
  int R = static_cast<int>(shape.size());
  if (R < 2)
    return nullptr;
  for (int vf = 0; vf < 2; ++vf) {
    const IndexMap &vm = op.maps[vf], &am = op.maps[1 - vf];
    std::optional<std::vector<int>> vars = plainVars(vm);
    if (!vars || vars->empty() || !readsWindow(am))
      continue;
    int n = vars->back();
    if (n >= R || shape[n] % 8 != 0 || shape[n] > kMaxVectorAxis)
      continue;
    bool aReadsN = false;
    std::vector<int> key(R, -1);
    for (size_t a = 0; a < am.size(); ++a) {
      if (am[a].isIndirect())
        return nullptr;
      for (int v : varsOf(am[a].pos)) {
        aReadsN = aReadsN || v == n;
        if (v < R)
          key[v] = static_cast<int>(a);
      }
    }
    if (aReadsN)
      continue;
    // The new result order: A's result variables as A stores them, n last.
    std::vector<int> order;
    for (int v = 0; v < R; ++v)
      if (v != n)
        order.push_back(v);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return key[a] < key[b]; });
    order.push_back(n);
    std::vector<int> to(R + op.reductionSizes.size());
    std::vector<int64_t> newShape;
    for (int i = 0; i < R; ++i) {
      to[order[i]] = i;
      newShape.push_back(shape[order[i]]);
    }
    for (size_t v = R; v < to.size(); ++v)
      to[v] = static_cast<int>(v);
    std::vector<IndexMap> maps = op.maps;
    renumberLoops(maps, to);
    Builder B = builderBefore(g, op);
    Value *r = B.contract(op.operands, maps, newShape, op.reductionSizes, {});
    IndexMap back; // axis i of r holds result variable order[i]
    for (int i = 0; i < R; ++i)
      back.push_back({Affine::var(order[i]), -1, {}});
    Value *placed = B.remap(r, back, shape);
    replaceResult(g, B, op, placed);
    return r->def;
  }
  return nullptr;
}

/// Rewrites `op` in place in its region; returns false if it stays.
bool pack(Graph &g, Op &op, int64_t minFlops) {
  if (op.kind != OpKind::Contract || !op.outMap.empty() || op.operands.size() != 2 ||
      flopsOf(op) < minFlops)
    return false;
  // The factor holding the result's leading non-batch axis plays the rows
  // (M), so that the product comes out in the result's own order.
  int first = 0;
  for (size_t v = 0; v < op.result()->type.shape.size(); ++v) {
    bool in0 = false, in1 = false;
    for (int f = 0; f < 2; ++f)
      for (const AxisIndex &ax : op.maps[f])
        for (int u : varsOf(ax.pos))
          if (u == static_cast<int>(v))
            (f == 0 ? in0 : in1) = true;
    if (in0 != in1) {
      first = in0 ? 0 : 1;
      break;
    }
  }
  Plan p;
  if (!classify(op, first, p))
    return false;
  bool kLast[2] = {true, true};
  followLargestFactor(op, first, p, kLast);
  int64_t m = 1, n = 1;
  for (int v : p.order) {
    if (p.group[v] == M)
      m *= p.extent[v];
    if (p.group[v] == N)
      n *= p.extent[v];
  }
  if (m < 2 || n < 2)
    return false; // a matrix-vector product: no gain from copying
  bool pack0 = !canonical(op, first, 0, p), pack1 = !canonical(op, first, 1, p);
  int R = static_cast<int>(op.result()->type.rank());
  // The result's canonical order: batch, M, N.
  std::vector<int> resultOrder;
  for (int v : p.order)
    if (v < R)
      resultOrder.push_back(v);
  std::vector<int> identity(R);
  for (int v = 0; v < R; ++v)
    identity[v] = v;
  bool transpose = resultOrder != identity;
  if (!pack0 && !pack1 && !transpose)
    return false; // already in GEMM form

  Builder B = builderBefore(g, op);

  // New loop numbering: the canonical result order, then K.
  std::vector<int> newIndex(p.extent.size(), -1);
  std::vector<int64_t> newResultShape, newReduction;
  int next = 0;
  for (int v : resultOrder) {
    newIndex[v] = next++;
    newResultShape.push_back(p.extent[v]);
  }
  for (int v : p.order)
    if (p.group[v] == K) {
      newIndex[v] = next++;
      newReduction.push_back(p.extent[v]);
    }
  std::vector<Value *> factors;
  std::vector<IndexMap> maps;
  for (int f = 0; f < 2; ++f) {
    int k = f == 0 ? first : 1 - first; // the operand playing factor f
    if (!(f == 0 ? pack0 : pack1)) {
      IndexMap mm;
      for (const AxisIndex &ax : op.maps[k])
        mm.push_back({ax.pos.renumbered(newIndex), -1, {}});
      factors.push_back(op.operand(k));
      maps.push_back(mm);
      continue;
    }
    // The copy's axes: this factor's variables in canonical order.
    std::vector<int> vars;
    Group own = f == 0 ? M : N;
    for (Group gr : {Batch, kLast[f] ? own : K, kLast[f] ? K : own})
      for (int v : p.order)
        if (p.group[v] == gr)
          vars.push_back(v);
    std::vector<int> local(p.extent.size(), -1);
    std::vector<int64_t> shape;
    for (size_t i = 0; i < vars.size(); ++i) {
      local[vars[i]] = static_cast<int>(i);
      shape.push_back(p.extent[vars[i]]);
    }
    IndexMap read;
    for (const AxisIndex &ax : op.maps[k])
      read.push_back({ax.pos.renumbered(local), -1, {}});
    Value *packed = B.remap(op.operand(k), read, shape, {}, op.symbols);
    B.name(packed, op.operand(k)->name + ".packed");
    IndexMap mm;
    for (int v : vars)
      mm.push_back({Affine::var(newIndex[v]), -1, {}});
    factors.push_back(packed);
    maps.push_back(mm);
  }
  std::vector<Value *> symbols = op.symbols;
  if (pack0 && pack1)
    symbols.clear(); // the copies took the step variables
  Value *r = B.contract(factors, maps, newResultShape, newReduction, symbols);
  if (transpose) {
    // Axis i of r holds result variable resultOrder[i]: read it back there
    // (a unit axis nothing places is not in r, and reads as its one point).
    IndexMap back;
    for (int v : resultOrder)
      back.push_back({Affine::var(v), -1, {}});
    r = B.remap(r, back, op.result()->type.shape);
  }
  replaceResult(g, B, op, r);
  return true;
}

} // namespace

int packContractions(Graph &g, int64_t minFlops) {
  int n = 0;
  for (Op *op : allOps(g.top)) {
    if (op->kind != OpKind::Contract)
      continue;
    n += makePlain(*op);
    if (Op *plain = sliceToPlain(g, *op)) {
      op = plain;
      ++n;
    }
    while (Op *fewer = splitProduct(g, *op)) {
      op = fewer;
      ++n;
    }
    // A rewritten contraction is left unused; dead-code elimination removes it.
    if (flopsOf(*op) >= minFlops)
      if (Op *reordered = orderForDirect(g, *op)) {
        op = reordered;
        ++n;
      }
    if (flopsOf(*op) >= minFlops && packDirect(g, *op)) {
      ++n;
      continue;
    }
    n += pack(g, *op, minFlops);
  }
  return n;
}

} // namespace gradc::passes
