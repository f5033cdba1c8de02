//===- runtime/Optimizer.cpp - The update rules `gradc train` applies ------===//
#include "runtime/Optimizer.h"

#include "ir/OptimizerArgs.h"
#include "support/Assert.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace gradc::runtime {

std::optional<OptimizerConfig> OptimizerConfig::fromSpec(const std::string &name,
                                                         const std::map<std::string, double> &args,
                                                         std::string &error) {
  OptimizerConfig c;
  static const std::map<std::string, OptimizerKind> kinds = {{"sgd", OptimizerKind::Sgd},
                                                             {"momentum", OptimizerKind::Momentum},
                                                             {"rmsprop", OptimizerKind::RmsProp},
                                                             {"adam", OptimizerKind::Adam},
                                                             {"adamw", OptimizerKind::AdamW}};
  auto k = kinds.find(name);
  if (k == kinds.end()) {
    error = "unknown optimizer '" + name + "'; use sgd, momentum, rmsprop, adam or adamw";
    return std::nullopt;
  }
  c.kind = k->second;
  std::map<std::string, double *> slots = {{"lr", &c.lr},
                                           {"beta", &c.beta},
                                           {"alpha", &c.alpha},
                                           {"eps", &c.eps},
                                           {"beta1", &c.beta1},
                                           {"beta2", &c.beta2},
                                           {"weight_decay", &c.weightDecay}};
  const std::vector<std::string> &own = *ir::optimizerArguments(name);
  for (auto &[key, value] : args) {
    auto s = slots.find(key);
    if (s == slots.end() || std::find(own.begin(), own.end(), key) == own.end()) {
      error = "optimizer '" + name + "' has no parameter '" + key + "'";
      return std::nullopt;
    }
    if (const char *why = ir::optimizerArgumentRange(key, value)) {
      std::ostringstream os;
      os << "optimizer '" << name << "': " << key << " = " << value << " is out of range (" << why
         << ")";
      error = os.str();
      return std::nullopt;
    }
    *s->second = value;
  }
  return c;
}

std::string OptimizerConfig::describe() const {
  std::ostringstream os;
  switch (kind) {
  case OptimizerKind::Sgd:
    os << "sgd(lr = " << lr << ")";
    break;
  case OptimizerKind::Momentum:
    os << "momentum(lr = " << lr << ", beta = " << beta << ")";
    break;
  case OptimizerKind::RmsProp:
    os << "rmsprop(lr = " << lr << ", alpha = " << alpha << ", eps = " << eps << ")";
    break;
  case OptimizerKind::Adam:
  case OptimizerKind::AdamW:
    os << (kind == OptimizerKind::Adam ? "adam" : "adamw") << "(lr = " << lr
       << ", beta1 = " << beta1 << ", beta2 = " << beta2 << ", eps = " << eps;
    if (kind == OptimizerKind::AdamW)
      os << ", weight_decay = " << weightDecay;
    os << ")";
    break;
  }
  if (clipNorm > 0)
    os << ", clip_norm " << clipNorm;
  return os.str();
}

std::vector<std::string> OptimizerConfig::stateNames() const {
  switch (kind) {
  case OptimizerKind::Sgd:
    return {};
  case OptimizerKind::Momentum:
    return {"momentum_buffer"};
  case OptimizerKind::RmsProp:
    return {"square_avg"};
  case OptimizerKind::Adam:
  case OptimizerKind::AdamW:
    return {"exp_avg", "exp_avg_sq"};
  }
  return {};
}

double clipScale(const OptimizerConfig &c, double sumOfSquares) {
  if (!(c.clipNorm > 0))
    return 1.0;
  double coef = c.clipNorm / (std::sqrt(sumOfSquares) + 1e-6);
  return coef < 1.0 ? coef : 1.0;
}

void referenceStep(const OptimizerConfig &c, int64_t t, double scale, double *p, const double *g,
                   const std::vector<double *> &state, int64_t n) {
  GRADC_ASSERT(state.size() == c.stateNames().size(), "optimizer state count");
  GRADC_ASSERT(t >= 1, "optimizer steps count from 1");
  double bc1 = 1 - std::pow(c.beta1, static_cast<double>(t));
  double bc2 = 1 - std::pow(c.beta2, static_cast<double>(t));
  for (int64_t i = 0; i < n; ++i) {
    double gi = g[i] * scale;
    switch (c.kind) {
    case OptimizerKind::Sgd:
      p[i] -= c.lr * gi;
      break;
    case OptimizerKind::Momentum:
      state[0][i] = c.beta * state[0][i] + gi;
      p[i] -= c.lr * state[0][i];
      break;
    case OptimizerKind::RmsProp:
      state[0][i] = c.alpha * state[0][i] + (1 - c.alpha) * gi * gi;
      p[i] -= c.lr * gi / (std::sqrt(state[0][i]) + c.eps);
      break;
    case OptimizerKind::AdamW:
      p[i] *= 1 - c.lr * c.weightDecay;
      [[fallthrough]];
    case OptimizerKind::Adam: {
      state[0][i] = c.beta1 * state[0][i] + (1 - c.beta1) * gi;
      state[1][i] = c.beta2 * state[1][i] + (1 - c.beta2) * gi * gi;
      double denom = std::sqrt(state[1][i]) / std::sqrt(bc2) + c.eps;
      p[i] -= (c.lr / bc1) * state[0][i] / denom;
      break;
    }
    }
  }
}

} // namespace gradc::runtime
