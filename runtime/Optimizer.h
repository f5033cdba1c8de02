//===- runtime/Optimizer.h - The update rules `gradc train` applies --------===//
//
// What each optimizer does to a parameter p with gradient g at step t
// (1, 2, ...), with torch.optim's semantics (PyTorch 1.13), which the
// lecture's rules agree with:
//
//   sgd       p -= lr·g
//   momentum  b = beta·b + g (b = 0 before the first step, so b1 = g: the
//             lecture's heavy ball, torch's SGD with momentum, dampening 0);
//             p -= lr·b
//   rmsprop   s = alpha·s + (1 - alpha)·g²;  p -= lr·g / (sqrt(s) + eps)
//   adam      m = beta1·m + (1 - beta1)·g;  v = beta2·v + (1 - beta2)·g²;
//             p -= (lr / (1 - beta1^t))·m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
//   adamw     p -= lr·weight_decay·p, then adam's step
//
// Global gradient-norm clipping (clip_norm n_max, the lecture's rule, as
// torch.nn.utils.clip_grad_norm_) first scales every gradient by
// min(1, n_max / (||g|| + 1e-6)), ||g|| the 2-norm over all parameters'
// gradients together.
//
// This file holds the rules' parameters and a double-precision reference
// of the update (tests compare it, and generated code, with torch.optim);
// generated code runs the update itself.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gradc::runtime {

enum class OptimizerKind { Sgd, Momentum, RmsProp, Adam, AdamW };

struct OptimizerConfig {
  OptimizerKind kind = OptimizerKind::Adam;
  double lr = 1e-3;
  double beta = 0.9;   ///< momentum
  double alpha = 0.99; ///< rmsprop
  double eps = 1e-8;   ///< rmsprop, adam, adamw
  double beta1 = 0.9, beta2 = 0.999;
  double weightDecay = 0.01; ///< adamw (torch's default)
  double clipNorm = 0;       ///< 0: no clipping

  /// The optimizer a model's `optimizer NAME(args)` statement names, with
  /// LANGUAGE.md's defaults for the arguments it omits; `name` one of
  /// sgd, momentum, rmsprop, adam, adamw (the front end checked it).
  static std::optional<OptimizerConfig>
  fromSpec(const std::string &name, const std::map<std::string, double> &args, std::string &error);
  /// "adam(lr = 0.001, beta1 = 0.9, beta2 = 0.999, eps = 1e-08)": for logs.
  std::string describe() const;
  /// The state each parameter carries, by torch.optim's names:
  /// momentum_buffer; square_avg; exp_avg and exp_avg_sq.
  std::vector<std::string> stateNames() const;
};

/// The factor clipping multiplies every gradient by, given the sum of the
/// squares of all gradients' elements: 1 without clipping.
double clipScale(const OptimizerConfig &c, double sumOfSquares);

/// Applies step `t` (from 1) of the rule to one parameter of n elements in
/// place: p, its gradient g (multiplied by `scale` first), and its state
/// tensors in stateNames() order.
void referenceStep(const OptimizerConfig &c, int64_t t, double scale, double *p, const double *g,
                   const std::vector<double *> &state, int64_t n);

} // namespace gradc::runtime
