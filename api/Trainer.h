//===- api/Trainer.h - A session's optimizer: state, steps, checkpoints ----===//
//
// What Session::trainStep adds to a backward pass: the optimizer's state
// tensors (torch.optim's names, one set per parameter), the step count, and
// the update itself, applied where the engine keeps the parameters so that
// nothing is copied. Native code runs the fused update kernel
// (codegen/UpdateKernel.h) on the engine's float32 buffers; the reference
// interpreter runs runtime::referenceStep in double precision.
//
// The parameters updated are those the engine's graph has gradients for, in
// the graph's order. A gradient that native code keeps in a parameter's or
// input's own buffer (the gradient of ½·sum(W²) is W itself) is copied
// before the update, so no parameter reads another's new value.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/UpdateKernel.h"
#include "runtime/AlignedBuffer.h"
#include "runtime/Engine.h"
#include "runtime/NpyIO.h"
#include "runtime/Optimizer.h"

#include <memory>
#include <string>
#include <vector>

namespace gradc::runtime {
class ThreadPool;
}

namespace gradc::api {

class Trainer {
public:
  explicit Trainer(runtime::OptimizerConfig config);
  ~Trainer();

  const runtime::OptimizerConfig &config() const { return config_; }
  /// The rate of later steps (learning-rate schedules).
  void setLearningRate(double lr);
  /// Steps taken so far (the next is steps() + 1).
  int64_t steps() const { return steps_; }
  /// The global 2-norm of the last step's gradients (0 before the first).
  double lastGradientNorm() const { return gradNorm_; }

  /// One step on the parameters `engine` holds, from the gradients of its
  /// last run. The first call fixes the parameter list and compiles the
  /// native kernel (`optLevel`); later calls must pass the same engine.
  void step(runtime::Engine &engine, runtime::ThreadPool *pool, int optLevel);

  /// The parameters the optimizer updates, in order (after the first step
  /// or prepare()).
  const std::vector<std::string> &paramNames() const { return names_; }
  /// Fixes the parameter list from `engine`'s graph without stepping (so a
  /// checkpoint's state can be restored before the first step).
  void prepare(const runtime::Engine &engine);

  /// The state tensors as float32 arrays named "optimizer/STATE/PARAM".
  runtime::NamedArrays stateArrays() const;
  /// The name under which stateArrays() stores one state tensor.
  static std::string stateArrayName(const std::string &state, const std::string &param);
  /// Restores the step count and every state tensor from `arrays` (other
  /// names are ignored). Checks everything before changing anything; on a
  /// missing or misshapen tensor returns false with `error` set.
  bool restore(int64_t steps, const runtime::NamedArrays &arrays, std::string &error);

private:
  struct Param;
  void fixParams(const runtime::Engine &engine);
  void nativeStep(runtime::Engine &engine, runtime::ThreadPool *pool, int optLevel);
  void referenceStep(runtime::Engine &engine);

  runtime::OptimizerConfig config_;
  int64_t steps_ = 0;
  double gradNorm_ = 0;
  std::vector<Param> params_;
  std::vector<std::string> names_;         ///< params_' names, in order
  codegen::UpdateKernel::Buffers buffers_; ///< native code: built at the first step
  bool fixed_ = false;
  std::unique_ptr<codegen::UpdateKernel> kernel_;
};

} // namespace gradc::api
