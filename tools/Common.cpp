//===- tools/Common.cpp - Options shared by the compiling commands --------===//
#include "tools/Commands.h"

#include <cerrno>
#include <cstdlib>

namespace gradc::tool {

void CommonOptions::add(CLI::App &cmd) {
  cmd.add_option("FILE", file, "the model file (.grad)")->required();
  cmd.add_option("--model", model, "the model to use when the file holds several");
  cmd.add_option("-D", defines, "override a dim: -D T=100")->allow_extra_args(false);
  cmd.add_flag("--remat", remat,
               "backpropagation through time keeps checkpoints every sqrt(T) steps and "
               "recomputes the rest");
}

void DataOptions::add(CLI::App &cmd) {
  cmd.add_option("--in", ins, "an input (or noise) array: NAME=FILE.npy");
  cmd.add_option("--inputs", inputsNpz, "inputs as one .npz, keys named after the inputs");
  cmd.add_option("--params", params, "parameters (.npz or .safetensors); missing ones come from --seed");
  cmd.add_option("--seed", seed, "seed for what is not given: parameters, noise (and inputs)");
}

void NativeOptions::add(CLI::App &cmd) {
  cmd.add_option("-O", optLevel, "LLVM optimization level of native code (-O0..-O3)")
      ->check(CLI::Range(0, 3));
  cmd.add_option("--threads", threads, "threads for native code (default: every core)")
      ->check(CLI::Range(1, 1024));
  cmd.add_flag("--no-cache", noCache, "compile with LLVM even when a cached object exists");
  cmd.add_option("--cache-dir", cacheDir,
                 "where compiled code is cached (default $XDG_CACHE_HOME/gradc or ~/.cache/gradc)");
}

codegen::JitOptions NativeOptions::jit() const {
  codegen::JitOptions j;
  j.optLevel = optLevel;
  j.cache = !noCache;
  j.cacheDir = cacheDir;
  return j;
}

gradc::Options sessionOptions(const CommonOptions &common, const NativeOptions &native) {
  gradc::Options o;
  FrontendOptions fo = common.frontend();
  o.model = fo.modelName;
  for (auto &[name, v] : fo.dims)
    o.dims.emplace_back(name, v);
  o.remat = common.remat;
  o.optLevel = native.optLevel;
  o.threads = native.threads;
  o.cache = !native.noCache;
  o.cacheDir = native.cacheDir;
  return o;
}

FrontendOptions CommonOptions::frontend() const {
  FrontendOptions o;
  o.modelName = model;
  for (const std::string &d : defines) {
    auto eq = d.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == d.size())
      throw sema::UsageError("-D " + d + ": expected NAME=VALUE");
    std::string name = d.substr(0, eq), val = d.substr(eq + 1);
    errno = 0;
    char *end = nullptr;
    long long v = std::strtoll(val.c_str(), &end, 10);
    if (errno || *end || v < 1 || v > 2147483647LL)
      throw sema::UsageError("-D " + d + ": the value must be a whole number in 1 .. 2147483647");
    o.dims[name] = v;
  }
  return o;
}

} // namespace gradc::tool
