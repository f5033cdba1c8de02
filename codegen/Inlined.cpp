//===- codegen/Inlined.cpp - Values computed where they are read -----------===//
#include "codegen/Inlined.h"

#include "ir/Rewrite.h"

#include <functional>
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

} // namespace

std::unordered_set<const ir::Value *> findInlined(const ir::Graph &g) {
  std::vector<const ir::Op *> ops;
  std::unordered_map<const ir::Op *, const ir::Region *> regionOf;
  std::function<void(const ir::Region &)> collect = [&](const ir::Region &r) {
    for (const auto &op : r.ops) {
      ops.push_back(op.get());
      regionOf[op.get()] = &r;
      if (op->body)
        collect(*op->body);
    }
  };
  collect(g.top);
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
    bool take = false;
    if (viewable(*op)) {
      take = true;
      for (const ir::Op *r : rs)
        take = take && readsElementwise(r);
    } else if (fusable(*op)) {
      take = rs.size() == 1 && readsElementwise(rs[0]) && regionOf[rs[0]] == regionOf[op];
    }
    if (take)
      inlined.insert(v);
  }
  return inlined;
}

} // namespace gradc::codegen
