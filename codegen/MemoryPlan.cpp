//===- codegen/MemoryPlan.cpp - Where every value of a graph lives --------===//
#include "codegen/MemoryPlan.h"

#include "codegen/Inlined.h"
#include "support/Assert.h"

namespace gradc::codegen {

using ir::OpKind;

static constexpr int64_t kAlign = 64; // a cache line, and AVX-512-safe

int64_t MemoryPlan::elementBytes(const ir::TensorType &t) {
  GRADC_ASSERT(t.dtype != ir::DType::Index, "a step variable has no storage");
  return 4;
}

MemoryPlan::MemoryPlan(const ir::Graph &g) : inlined_(findInlined(g)) { planRegion(g.top); }

void MemoryPlan::place(const ir::Value *v) {
  Slot s;
  s.offset = arenaBytes_;
  int64_t bytes = v->type.numElements() * elementBytes(v->type);
  arenaBytes_ += (bytes + kAlign - 1) / kAlign * kAlign;
  slots_[v] = s;
}

void MemoryPlan::planRegion(const ir::Region &r) {
  for (const auto &op : r.ops) {
    switch (op->kind) {
    case OpKind::Input:
    case OpKind::Param:
    case OpKind::State:
    case OpKind::Noise: {
      Slot s;
      s.kind = Slot::Leaf;
      s.leaf = static_cast<int>(leaves_.size());
      leaves_.push_back({op->name, op->kind, op->result()->type, op.get()});
      slots_[op->result()] = s;
      continue;
    }
    case OpKind::Constant:
      if (op->result()->type.rank() == 0) {
        Slot s;
        s.kind = Slot::Inline;
        s.value = op->value;
        slots_[op->result()] = s;
        continue;
      }
      break;
    case OpKind::Yield:
      continue;
    case OpKind::Recurrence:
      // The loop updates its carried tensors in place: the results' slots
      // are what the body arguments read and the yield writes.
      for (size_t i = 0; i < op->results.size(); ++i) {
        place(op->result(static_cast<int>(i)));
        slots_[op->body->args[i + 1]] = slots_.at(op->result(static_cast<int>(i)));
      }
      planRegion(*op->body);
      continue;
    default:
      break;
    }
    for (const ir::Value *v : op->results)
      if (!isInlined(v))
        place(v);
  }
}

const Slot &MemoryPlan::slot(const ir::Value *v) const {
  auto it = slots_.find(v);
  GRADC_ASSERT(it != slots_.end(), "no storage planned for %" + v->name);
  return it->second;
}

int MemoryPlan::leafIndex(const std::string &name) const {
  for (size_t i = 0; i < leaves_.size(); ++i)
    if (leaves_[i].name == name)
      return static_cast<int>(i);
  return -1;
}

} // namespace gradc::codegen
