//===- runtime/Interpreter.h - Reference interpreter of the IR --*- C++ -*-===//
//
// Executes a Graph op by op in double precision, as plainly as the IR's
// definition reads. It is the oracle that native code is checked against and
// that finite-difference gradient checks run on, so clarity wins over speed;
// index maps are still precomputed per op so that realistic layers (a
// 784x256 matmul on a batch of 128) take well under a second.
//
// Data: every value is a DTensor of doubles; int (i32) tensors and step
// variables hold exact integers. Leaves are addressed by their external
// names ("x", "a1.W"). Params and state keep their values across runs; noise
// is drawn afresh on every run (stream noiseStream(call) of the noise seed,
// runtime/Random.h) unless a value was set for it.
//
// Semantics where the IR leaves a choice:
//  - A read through an index map checks its affine axes first: one out of
//    bounds makes the element 0 (padding) without looking at indirect axes.
//    An indirect position (the int operand's value plus the affine offset)
//    out of range is a RuntimeFault at the op's location. The int operand
//    is itself read by the affine rule: out of bounds, its value is 0.
//  - scatter_add, remap's adjoint, positions its writes by the same rule:
//    a source element whose affine position is out of bounds is dropped;
//    an indirect position out of range is a RuntimeFault at the op's
//    location, raised at the first such element in C order.
//  - In a contract every factor is read at every loop point, so an
//    out-of-range index faults even where another factor is padding; with
//    an output map, a loop point whose output position is out of bounds
//    contributes nothing.
//  - A recurrence body sees the carried tensors as they stand at the start
//    of the step; its yield runs last and writes its slices (or, for a
//    whole yield, the whole carried tensor) in operand order (a set, then
//    an accumulate at the same position, adds to the value just set). A
//    yield operand that is a carried tensor of the same body is its value
//    at the start of the step, whatever the yield wrote before it. A write
//    outside the extended tensor is an internal error: callers only write
//    in range.
//  - max/min/reductions propagate NaN; argmax picks the first maximum.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "runtime/Engine.h"
#include "runtime/RuntimeFault.h"

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace gradc::runtime {

class Interpreter : public Engine {
public:
  /// The graph must outlive the interpreter.
  explicit Interpreter(const ir::Graph &g);

  /// Gives the leaf named `leafName` (input, param, state, or a noise value
  /// to hold fixed) a value of its declared shape. An unknown name, a wrong
  /// shape or a non-integer value for an int leaf is a caller bug.
  void set(const std::string &leafName, DTensor value) override;
  /// The leaf op with external name `name`, or null.
  const ir::Op *findLeaf(const std::string &name) const override;
  /// True when `leafName` holds a value (set or initialized).
  bool has(const std::string &leafName) const override;
  /// The value held for a leaf (asserts that it has one).
  DTensor leafValue(const std::string &leafName) const override;

  /// Initializes every param and state leaf from `seed`
  /// (runtime/Initializers.h), rounding to f32 as native code stores them;
  /// values set before are overwritten.
  void initParams(uint64_t seed) override;
  /// Noise of the next run is drawn from (seed, noiseStream(call)); each
  /// run then advances the call counter by one.
  void setNoiseSeed(uint64_t seed, uint64_t call = 0) override;
  /// The call counter of the next run's noise.
  uint64_t noiseCall() const override { return noiseCall_; }

  /// Names of input leaves that have no value yet, in graph order.
  std::vector<std::string> missingInputs() const override;

  /// Evaluates the graph's top region. Throws RuntimeFault on a data error
  /// (an out-of-range indirect index), InternalError on a malformed graph
  /// or a missing input, param or state.
  void run() override;
  /// Applies the graph's `updates` (state <- value) with the values of the
  /// last run, all at once.
  void applyUpdates() override;

  /// A value computed by the last run (for values inside recurrence bodies:
  /// as of the last step executed).
  DTensor value(const ir::Value *v) const override;
  const ir::Graph &graph() const override { return g_; }
  /// An output, the loss, a metric or a gradient by name; failing those, a
  /// value of the graph with that name.
  DTensor output(const std::string &name) const;

private:
  void runRegion(const ir::Region &r);
  void runOp(const ir::Op &op);
  DTensor evalLeaf(const ir::Op &op) const;
  void runRecurrence(const ir::Op &op);
  void applyYield(const ir::Op &yield);
  const DTensor &get(const ir::Value *v) const;

  const ir::Graph &g_;
  std::unordered_map<std::string, const ir::Op *> leafOps_;
  std::unordered_map<std::string, DTensor> leaves_;     ///< set or initialized
  std::unordered_map<std::string, DTensor> drawnNoise_; ///< this run's noise
  std::unordered_map<const ir::Value *, DTensor> values_;
  uint64_t noiseSeed_ = 0;
  uint64_t noiseCall_ = 0;
};

} // namespace gradc::runtime
