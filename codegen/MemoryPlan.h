//===- codegen/MemoryPlan.h - Where every value of a graph lives ---------===//
//
// Native code addresses each tensor as a base pointer plus a constant
// offset. Leaves that come from outside (inputs, parameters, state, noise)
// live in buffers the session owns and are reached through a table of
// pointers, so that one parameter buffer serves every compiled graph of a
// model and inputs need no copy. Every other value gets a slot in one arena
// per executable, laid out once by this static plan: 64-byte aligned, one
// slot per value (the carried tensors of a recurrence share their slot with
// the body arguments that read them, and a step's values are reused by
// every step). A value its reader computes in place (a view or a fused
// elementwise op, codegen/Inlined.h) has no slot. Buffer reuse across lifetimes is the memory-planning pass's
// job and can shrink this plan without changing its interface.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace gradc::codegen {

/// Where one value lives.
struct Slot {
  enum Kind { Arena, Leaf, Inline };
  Kind kind = Arena;
  int64_t offset = 0; ///< Arena: byte offset in the arena
  int leaf = -1;      ///< Leaf: index in the leaf table
  /// Inline: a rank-0 constant read as an immediate, never stored.
  double value = 0;
};

/// An externally held leaf: inputs, params, state and noise, by name.
struct LeafInfo {
  std::string name;
  ir::OpKind kind;
  ir::TensorType type;
  const ir::Op *op = nullptr;
};

class MemoryPlan {
public:
  explicit MemoryPlan(const ir::Graph &g);

  const Slot &slot(const ir::Value *v) const;
  bool has(const ir::Value *v) const { return slots_.count(v) != 0; }
  /// True for a value its readers compute where they read it (a view, or a
  /// fused elementwise op: codegen/Inlined.h); it has no slot.
  bool isInlined(const ir::Value *v) const { return inlined_.count(v) != 0; }
  int64_t arenaBytes() const { return arenaBytes_; }
  const std::vector<LeafInfo> &leaves() const { return leaves_; }
  /// The leaf table index of `name`, or -1.
  int leafIndex(const std::string &name) const;
  /// Bytes of one element of `t` as native code stores it (f32 and i32: 4).
  static int64_t elementBytes(const ir::TensorType &t);

private:
  void planRegion(const ir::Region &r);
  void place(const ir::Value *v);

  std::unordered_map<const ir::Value *, Slot> slots_;
  std::unordered_set<const ir::Value *> inlined_;
  std::vector<LeafInfo> leaves_;
  int64_t arenaBytes_ = 0;
};

} // namespace gradc::codegen
