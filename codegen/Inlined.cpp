//===- codegen/Inlined.cpp - Values computed where they are read -----------===//
#include "codegen/Inlined.h"

#include "ir/ContractShape.h"
#include "ir/Rewrite.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace gradc::codegen {

using ir::OpClass;

namespace {

bool elementwise(const ir::Op &op) {
  OpClass c = op.opClass();
  return c == OpClass::Unary || c == OpClass::Binary || c == OpClass::Ternary;
}

/// A remap a view can stand for: affine positions only (an indirect read can
/// fault, and a fault is reported by the kernel that reads the int tensor).
bool viewable(const ir::Op &op) {
  if (op.kind != ir::OpKind::Remap || op.operands.size() != 1 || op.result()->type.rank() == 0)
    return false;
  for (const ir::AxisIndex &ax : op.maps[0])
    if (ax.isIndirect())
      return false;
  return true;
}

/// An elementwise op its reader may compute: an f32 result (an int one is
/// rounded by being stored) with elements to loop over.
bool fusable(const ir::Op &op) {
  return elementwise(op) && op.result()->type.dtype == ir::DType::F32 &&
         op.result()->type.rank() > 0;
}

/// An argmax its one reader, a scatter, may compute where it reads the
/// index: the scatter's positions along one axis, and nothing else.
bool argmaxOfScatter(const ir::Op &op, const std::vector<const ir::Op *> &readers) {
  if (op.kind != ir::OpKind::ArgMax || readers.size() != 1)
    return false;
  const ir::Op &r = *readers[0];
  if (r.kind != ir::OpKind::ScatterAdd || r.parent != op.parent || r.operand(0) == op.result())
    return false;
  int uses = 0;
  for (const ir::AxisIndex &ax : r.maps[0])
    uses += ax.isIndirect() && r.operand(ax.indirect) == op.result();
  return uses == 1;
}

/// A sum its operand `v` may be computed in: a plain contraction (of one
/// factor, or one the direct form does not take) that reads `v` once per
/// loop point and each element of `v` at one loop point at most: every
/// loop variable appears in one axis of the map, and each axis is a
/// mixed-radix number of its variables (p·B/P + b' over b' < B/P, as
/// passes/ReductionForms.cpp splits sums), so no two points meet.
bool readsOnceEach(const ir::Op &reader, const ir::Value *v) {
  if (reader.kind != ir::OpKind::Contract || !reader.outMap.empty() ||
      (reader.operands.size() > 1 && ir::innermostVectorFactor(reader) >= 0))
    return false;
  std::vector<int64_t> extent = reader.result()->type.shape;
  extent.insert(extent.end(), reader.reductionSizes.begin(), reader.reductionSizes.end());
  int slot = -1;
  for (size_t k = 0; k < reader.operands.size(); ++k)
    if (reader.operand(k) == v) {
      if (slot >= 0)
        return false; // read twice (x·x)
      slot = static_cast<int>(k);
    }
  std::vector<bool> seen(extent.size(), false);
  for (const ir::AxisIndex &ax : reader.maps[slot]) {
    if (ax.isIndirect() || ax.pos.constant != 0)
      return false;
    std::vector<std::pair<int64_t, int>> terms; // (coefficient, variable)
    for (auto &[var, c] : ax.pos.terms) {
      if (var < 0 || seen[var])
        return false;
      seen[var] = true;
      terms.push_back({c, var});
    }
    std::sort(terms.begin(), terms.end());
    int64_t radix = 1;
    for (auto &[c, var] : terms) {
      if (c != radix)
        return false;
      radix *= extent[var];
    }
  }
  for (bool s : seen)
    if (!s)
      return false; // a variable the map ignores: elements read repeatedly
  return true;
}

/// The arithmetic an elementwise op costs per element, in simple ops: the
/// vector-math approximations (codegen/VectorMath.h) are a dozen each.
int opCost(const ir::Op &op) {
  switch (op.kind) {
  case ir::OpKind::Exp:
  case ir::OpKind::Log:
  case ir::OpKind::Tanh:
  case ir::OpKind::Sigmoid:
  case ir::OpKind::Softplus:
  case ir::OpKind::Sin:
  case ir::OpKind::Cos:
    return 12;
  case ir::OpKind::PowC:
    return op.value == std::floor(op.value) && std::fabs(op.value) <= 8 ? 2 : 24;
  case ir::OpKind::Div:
  case ir::OpKind::Sqrt:
  case ir::OpKind::Rsqrt:
    return 4;
  default:
    return 1;
  }
}

/// The most work (opCost units per element) a value read by several
/// kernels may cost for each to recompute it rather than read it stored:
/// a store and a reload of a float costs more than a few vector ops.
constexpr int kMaxRecompute = 8;

} // namespace

std::unordered_set<const ir::Value *> findInlined(const ir::Graph &g) {
  std::vector<const ir::Op *> ops = ir::allOps(g.top);
  // Every use of every value: the ops reading it (once per operand slot).
  std::unordered_map<const ir::Value *, std::vector<const ir::Op *>> readers;
  std::unordered_set<const ir::Value *> pinned; // symbols and graph-level uses
  for (const ir::Op *op : ops) {
    for (const ir::Value *v : op->operands)
      readers[v].push_back(op);
    for (const ir::Value *v : op->symbols)
      pinned.insert(v);
  }
  ir::forEachGraphUse(g, [&](const ir::Value *v) { pinned.insert(v); });

  std::unordered_set<const ir::Value *> inlined;
  // The work of computing an inlined value at one point, in simple
  // arithmetic ops: its own op and its inlined operands'.
  std::unordered_map<const ir::Value *, int> cost;
  for (const ir::Op *op : ops) {
    if (op->results.size() != 1 || pinned.count(op->result()))
      continue;
    const ir::Value *v = op->result();
    auto it = readers.find(v);
    if (it == readers.end())
      continue; // dead: stored as before, nothing reads it
    const std::vector<const ir::Op *> &rs = it->second;
    auto readsElementwise = [&](const ir::Op *r) {
      return elementwise(*r) && r->result()->type.shape == v->type.shape;
    };
    bool take = true;
    if (argmaxOfScatter(*op, rs)) {
      take = true; // max pooling's adjoint: no i32 tensor written and read back
    } else if (viewable(*op)) {
      for (const ir::Op *r : rs)
        take = take && readsElementwise(r);
    } else if (fusable(*op)) {
      for (const ir::Op *r : rs)
        take = take && r->parent == op->parent && (readsElementwise(r) || readsOnceEach(*r, v));
      int c = opCost(*op);
      for (const ir::Value *x : op->operands)
        if (inlined.count(x))
          c += cost[x];
      cost[v] = c;
      // Read once, it is computed once; read by several kernels, each
      // recomputes it, which pays while that costs less than storing it
      // and reading it back.
      take = take && (rs.size() == 1 || c <= kMaxRecompute);
    } else {
      take = false;
    }
    if (take)
      inlined.insert(v);
  }
  return inlined;
}

} // namespace gradc::codegen
