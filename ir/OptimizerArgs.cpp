//===- ir/OptimizerArgs.cpp - The arguments each optimizer rule takes ------===//
#include "ir/OptimizerArgs.h"

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

} // namespace gradc::ir
