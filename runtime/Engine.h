//===- runtime/Engine.h - What runs a graph: interpreter or native code ---===//
//
// The commands and the session API drive a graph through this interface,
// so that the reference interpreter (double precision, runtime/Interpreter.h)
// and native code (float32, codegen/NativeEngine.h) are interchangeable:
// `gradc run --interp` swaps one for the other and nothing else changes.
// Values cross the interface as DTensors (doubles holding f32 or i32 values).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "runtime/RuntimeFault.h"

#include <cstdint>
#include <string>
#include <vector>

namespace gradc::runtime {

/// A tensor of doubles in C order, with the IR type it stands for.
struct DTensor {
  ir::TensorType type;
  std::vector<double> data;

  /// A tensor of `type` filled with zeros.
  static DTensor zeros(ir::TensorType type);
  /// A rank-0 tensor.
  static DTensor scalar(double v, ir::DType dtype = ir::DType::F32);
  /// Row-major strides of the shape, in elements.
  std::vector<int64_t> strides() const;
};

class Engine {
public:
  virtual ~Engine() = default;
  /// The graph it runs.
  virtual const ir::Graph &graph() const = 0;
  /// Gives the leaf named `leafName` (input, param, state, or a noise value
  /// to hold fixed) a value of its declared shape. An unknown name, a wrong
  /// shape or a non-integer value for an int leaf is a caller bug.
  virtual void set(const std::string &leafName, DTensor value) = 0;
  /// The same from the leaf's elements as native code stores them: float
  /// for an f32 leaf, int32_t for an int one, in C order. Native code copies
  /// them as they are; the default widens them to a DTensor.
  virtual void setData(const std::string &leafName, const void *data) {
    const ir::Op *leaf = findLeaf(leafName);
    DTensor d = DTensor::zeros(leaf->result()->type);
    for (size_t i = 0; i < d.data.size(); ++i)
      d.data[i] = leaf->result()->type.dtype == ir::DType::I32
                      ? static_cast<const int32_t *>(data)[i]
                      : static_cast<const float *>(data)[i];
    set(leafName, std::move(d));
  }
  /// The leaf op with external name `name`, or null.
  virtual const ir::Op *findLeaf(const std::string &name) const = 0;
  /// True when `leafName` holds a value (set or initialized).
  virtual bool has(const std::string &leafName) const = 0;
  /// The value held for a leaf (asserts that it has one).
  virtual DTensor leafValue(const std::string &leafName) const = 0;
  /// Initializes every param and state leaf from `seed` (runtime/Initializers.h).
  virtual void initParams(uint64_t seed) = 0;
  /// Noise of the next run is drawn from (seed, noiseStream(call)); each
  /// run then advances the call counter by one.
  virtual void setNoiseSeed(uint64_t seed, uint64_t call = 0) = 0;
  /// The call counter of the next run's noise (what a checkpoint saves).
  virtual uint64_t noiseCall() const = 0;
  /// Names of input leaves that have no value yet, in graph order.
  virtual std::vector<std::string> missingInputs() const = 0;
  /// Evaluates the whole graph (forward and, where it has one, backward).
  /// Throws RuntimeFault on a data error (an out-of-range indirect index).
  virtual void run() = 0;
  /// Applies the graph's `updates` (state <- value) with the last run's values.
  virtual void applyUpdates() = 0;
  /// A value computed by the last run (for values inside recurrence bodies:
  /// as of the last step executed).
  virtual DTensor value(const ir::Value *v) const = 0;
};

} // namespace gradc::runtime
