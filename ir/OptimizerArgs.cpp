//===- ir/OptimizerArgs.cpp - The arguments each optimizer rule takes ------===//
#include "ir/OptimizerArgs.h"

#include <cmath>
#include <map>

namespace gradc::ir {

const std::vector<std::string> *optimizerArguments(const std::string &name) {
  static const std::map<std::string, std::vector<std::string>> args = {
      {"sgd", {"lr"}},
      {"momentum", {"lr", "beta"}},
      {"rmsprop", {"lr", "alpha", "eps"}},
      {"adam", {"lr", "beta1", "beta2", "eps"}},
      {"adamw", {"lr", "beta1", "beta2", "eps", "weight_decay"}}};
  auto it = args.find(name);
  return it == args.end() ? nullptr : &it->second;
}

const char *optimizerArgumentRange(const std::string &arg, double value) {
  if (std::isinf(value))
    return "it must be finite";
  if (arg == "lr" || arg == "eps")
    return value > 0 ? nullptr : "it must be positive";
  if (arg == "weight_decay")
    return value >= 0 ? nullptr : "it must be at least 0";
  return value >= 0 && value < 1 ? nullptr : "it must be in [0, 1)"; // the decay rates
}

} // namespace gradc::ir
