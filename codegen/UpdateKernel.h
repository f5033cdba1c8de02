//===- codegen/UpdateKernel.h - The optimizer's fused update ---------------===//
//
// One generated kernel applies an optimizer step (runtime/Optimizer.h) to
// every parameter: the parameters' elements, one after another, form one
// index space, which the thread pool splits in chunks; each chunk runs the
// pieces of the parameters it covers, and every element's state and value
// are computed in one pass in float32, as torch.optim computes them. No C++
// loop over tensors: the sizes are compiled in, the buffers arrive in one
// table. A second kernel sums the squares of all gradients for clipping,
// in fixed chunks whose partial sums (in double) are added in order, so the
// norm does not depend on the number of threads.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/Jit.h"
#include "runtime/Optimizer.h"

#include <memory>
#include <vector>

namespace gradc::runtime {
class ThreadPool;
}

namespace gradc::codegen {

class UpdateKernel {
public:
  /// Compiles the update of `c`'s rule for parameters of `sizes` elements.
  UpdateKernel(const runtime::OptimizerConfig &c, std::vector<int64_t> sizes, int optLevel = 2);
  ~UpdateKernel();

  /// Per parameter: its values, its gradient and its state tensors (in
  /// OptimizerConfig::stateNames() order), each of the parameter's size.
  struct Buffers {
    std::vector<float *> params;
    std::vector<const float *> grads;
    std::vector<std::vector<float *>> state;
  };

  /// Σ g² over every gradient element.
  double sumOfSquares(const Buffers &b, runtime::ThreadPool *pool) const;
  /// Step t (from 1), the gradients multiplied by `scale` (clipping).
  void step(const Buffers &b, int64_t t, double scale, runtime::ThreadPool *pool) const;
  /// A step with clipping as the config asks; returns the gradients' norm.
  double clippedStep(const Buffers &b, int64_t t, runtime::ThreadPool *pool) const;

  const runtime::OptimizerConfig &config() const { return config_; }
  /// The rate of later steps (a schedule's); every other setting is fixed.
  void setLearningRate(double lr) { config_.lr = lr; }

private:
  struct Args;
  Args argsFor(const Buffers &b) const;

  runtime::OptimizerConfig config_;
  std::vector<int64_t> sizes_;
  int64_t total_ = 0;
  std::unique_ptr<JitModule> code_;
  void (*update_)(const void *args, int64_t begin, int64_t end) = nullptr;
  void (*sumsq_)(const void *args, int64_t begin, int64_t end) = nullptr;
};

} // namespace gradc::codegen
