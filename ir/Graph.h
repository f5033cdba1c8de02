//===- ir/Graph.h - Values, ops, regions and the model graph --------------===//
//
// The IR is a graph of tensor operations in SSA form with static shapes. A
// Graph owns one top-level Region; a recurrence op owns a body Region that
// runs once per step. Ops in a body may use any value defined before the
// recurrence (regions capture their surroundings, as in MLIR).
//
// Recurrences. A tensor computed by a recurrence along axis t is carried in
// "extended" storage: its t-axis is longer by the number of boundary
// positions, so that reads before the first step (t-1 at t=0) find the
// boundary values (h0) and reads past the boundary find zeros, by the same
// out-of-bounds rule as any other read. Step t of the loop writes position
// t + offset. The op's operands are the initial extended tensors (boundary
// values in place, zeros elsewhere), its results the final ones. The body's
// arguments are the step variable %t (index) and the carried tensors as they
// stand at the start of the step; its last op is a yield whose operands are
// slices (the carried type without the t-axis) written at position
// t + offset + delta, either set or accumulated.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/IndexMap.h"
#include "ir/Op.h"
#include "ir/Type.h"
#include "support/SourceManager.h"

#include <memory>
#include <string>
#include <vector>

namespace gradc::ir {

class Op;
class Region;

/// An SSA value: an op result or a region argument.
class Value {
public:
  TensorType type;
  std::string name; ///< unique within the graph; the source name where one exists
  Op *def = nullptr;        ///< defining op, or null for a region argument
  Region *owner = nullptr;  ///< for a region argument: its region
  int index = 0;            ///< result number or argument number
};

/// How a param or state is initialized, or how noise is drawn.
struct InitSpec {
  enum Kind { None, Zeros, Ones, Constant, Normal, Uniform, He, Lecun, Xavier };
  Kind kind = None;
  double a = 0, b = 0;  ///< constant(a), normal(a = std), uniform(a, b)
  int64_t fanIn = 0;    ///< for He, Lecun, Xavier (inferred or given)
  int64_t fanOut = 0;   ///< for Xavier
  std::string str() const; ///< "he(fan_in=64)", "uniform(-1, 1)"
};

/// Per carried tensor of a recurrence.
struct CarriedInfo {
  /// The recurrence axis in the extended tensor, or -1 for a tensor carried
  /// whole from step to step (a gradient accumulator of the backward loop).
  int axis = 0;
  int64_t offset = 0; ///< extended position of step 0
};

/// Per yield operand.
struct YieldInfo {
  int carried = 0;     ///< which carried tensor it writes
  int64_t delta = 0;   ///< written at step + offset + delta
  bool accumulate = false; ///< add into the position instead of setting it
  /// The operand has the carried tensor's full type and is written (set or
  /// added) over all of it; delta is unused. Required for axis -1.
  bool whole = false;
};

class Op {
public:
  OpKind kind;
  std::vector<Value *> operands; ///< tensor operands
  std::vector<Value *> symbols;  ///< step variables used by index maps
  std::vector<Value *> results;
  SourceLoc loc;
  bool backward = false; ///< produced by autodiff (coloured apart in DOT)

  // Attributes; which ones an op uses depends on its kind (see Ops.def).
  std::string name;            ///< leaves: the external name ("a1.W")
  InitSpec init;               ///< param, state, noise
  double value = 0;            ///< constant: the value; powc: the exponent
  std::vector<int> axes;       ///< reduce, normalize: axes; iota: {axis}
  std::vector<IndexMap> maps;  ///< remap, scatter_add: {map}; contract: one per operand
  /// contract: where each loop point accumulates into the result (one
  /// AxisIndex per result axis, affine only); empty for a plain contraction.
  IndexMap outMap;
  std::vector<int64_t> reductionSizes; ///< contract: sizes of reduction loops
  // Recurrence.
  int64_t steps = 0;
  bool reverse = false;              ///< runs from the last step to the first
  std::vector<CarriedInfo> carried;  ///< one per operand/result
  std::unique_ptr<Region> body;
  // Yield.
  std::vector<YieldInfo> yields;     ///< one per operand

  Region *parent = nullptr;

  Value *result(int i = 0) const { return results[i]; }
  Value *operand(int i) const { return operands[i]; }
  const char *mnemonic() const { return opMnemonic(kind); }
  OpClass opClass() const { return opClassOf(kind); }
  /// Number of loop variables of the op: result rank plus, for contract,
  /// the reduction loops.
  int numLoops() const;
};

/// A list of ops with arguments: the graph's top level or a recurrence body.
class Region {
public:
  std::vector<Value *> args;
  std::vector<std::unique_ptr<Op>> ops;
  Op *parentOp = nullptr; ///< the recurrence owning it, or null at top level
};

/// A named value the graph exposes.
struct NamedValue {
  std::string name;
  Value *value = nullptr;
  SourceLoc loc;
};

/// A `state` update applied after a training step: state <- value.
struct StateUpdate {
  Value *state = nullptr;
  Value *value = nullptr;
  SourceLoc loc;
};

/// The forward (and, after autodiff, backward) computation of one model.
class Graph {
public:
  std::string modelName;
  bool training = false; ///< the value of the constant `training`
  Region top;
  std::vector<NamedValue> outputs; ///< `output` names, in order
  NamedValue loss;                 ///< `minimize`, or value == null
  std::vector<NamedValue> metrics;
  std::vector<StateUpdate> updates;
  std::vector<NamedValue> gradients; ///< after autodiff: grad.NAME per param/input

  Graph() = default;
  Graph(const Graph &) = delete;
  Graph &operator=(const Graph &) = delete;

  /// Allocates a value owned by the graph. Names are made unique.
  Value *newValue(TensorType type, const std::string &name);
  /// Renames a value, keeping names unique ("h", then "h.1", ...).
  void rename(Value *v, const std::string &name);
  /// Looks a value up by name (null if none).
  Value *findValue(const std::string &name) const;
  /// Leaves of one kind (inputs, params, ...) in graph order.
  std::vector<Op *> leaves(OpKind kind) const;
  /// All values, in creation order.
  const std::vector<std::unique_ptr<Value>> &values() const { return values_; }

private:
  std::string uniqueName(const std::string &base);
  std::vector<std::unique_ptr<Value>> values_;
  std::vector<std::string> usedNames_; // kept sorted for lookup
  int64_t tempCounter_ = 0;
};

} // namespace gradc::ir
