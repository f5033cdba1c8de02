//===- tools/CmdBench.cpp - gradc bench -----------------------------------===//
//
// Times a model's native code: the compile (front end, autodiff and LLVM;
// always a cold compile, the cache bypassed, plus the time of loading the
// same code from the cache), then `--iters` runs each of the forward pass
// (evaluation graph) and the forward+backward pass (training graph),
// reporting medians after warm-up runs. Inputs the user does not give are
// drawn as gradcheck draws them, parameters from --seed. Peak memory is the
// planned storage of the training graph: its arena and its leaves.
//
//===----------------------------------------------------------------------===//
#include "api/InputFill.h"
#include "api/Pipeline.h"
#include "codegen/NativeEngine.h"
#include "runtime/ThreadPool.h"
#include "tools/Commands.h"
#include "tools/LeafArrays.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

namespace gradc::tool {

namespace {

struct BenchOptions {
  CommonOptions common;
  DataOptions data;
  NativeOptions native;
  int iters = 20;
  bool json = false;
  bool profile = false;
};

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n == 0 ? 0 : n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/// Median milliseconds of `iters` calls of `f`, after max(2, iters/10) warm-up calls.
template <class F> double timeIt(int iters, F f) {
  for (int i = 0; i < std::max(2, iters / 10); ++i)
    f();
  std::vector<double> ms;
  for (int i = 0; i < iters; ++i) {
    auto t0 = Clock::now();
    f();
    ms.push_back(msSince(t0));
  }
  return median(ms);
}

int64_t plannedBytes(const codegen::NativeEngine &e) {
  int64_t bytes = e.plan().arenaBytes();
  for (const codegen::LeafInfo &l : e.plan().leaves())
    bytes += l.type.numElements() * codegen::MemoryPlan::elementBytes(l.type);
  return bytes;
}

/// The kernels that took the most time in `e`'s runs, with their equations.
void printProfile(const codegen::NativeEngine &e, const SourceManager &sm, const char *pass) {
  const std::vector<int64_t> &ticks = e.kernelTicks();
  const std::vector<codegen::KernelInfo> &kernels = e.code().kernels;
  std::vector<size_t> order(kernels.size());
  int64_t total = 0;
  for (size_t i = 0; i < kernels.size(); ++i) {
    order[i] = i;
    total += ticks[i];
  }
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return ticks[a] > ticks[b]; });
  // Where the time goes by kind of op first: a model with many cheap
  // kernels spends it in no single one.
  std::map<std::string, std::pair<int64_t, int>> byKind;
  for (size_t i = 0; i < kernels.size(); ++i) {
    auto &[t, n] = byKind[kernels[i].kind];
    t += ticks[i];
    ++n;
  }
  std::vector<std::pair<std::string, std::pair<int64_t, int>>> kinds(byKind.begin(), byKind.end());
  std::sort(kinds.begin(), kinds.end(),
            [](const auto &a, const auto &b) { return a.second.first > b.second.first; });
  std::printf("  time by kind of kernel in all %s runs:\n", pass);
  for (const auto &[kind, tn] : kinds)
    std::printf("    %5.1f%%  %-14s %4d kernel%s\n", total ? 100.0 * tn.first / total : 0.0,
                kind.c_str(), tn.second, tn.second == 1 ? "" : "s");
  std::printf("  kernels by time in all %s runs (%zu kernels):\n", pass, kernels.size());
  for (size_t r = 0; r < order.size() && r < 15; ++r) {
    const codegen::KernelInfo &k = kernels[order[r]];
    std::string where = k.loc.valid() ? sm.path(k.loc.file) + ":" + std::to_string(k.loc.line)
                                      : std::string("?");
    std::printf("    %5.1f%%  %-28s %s\n", total ? 100.0 * ticks[order[r]] / total : 0.0,
                k.name.c_str(), where.c_str());
  }
}

int runBench(const BenchOptions &o) {
  SourceManager sm;
  DiagnosticEngine diags(sm, &std::cerr);
  runtime::ThreadPool pool(o.native.threads);
  codegen::JitOptions jo = o.native.jit();
  jo.emit.profile = o.profile;
  bool hasLoss;

  // A cold compile of what a training step needs (the cache bypassed) ...
  auto t0 = Clock::now();
  FrontendResult fr = runFrontend(o.common.file, nullptr, o.common.frontend(), sm, diags);
  hasLoss = fr.model->loss.has_value();
  auto trainGraph = api::buildGraph(*fr.model, hasLoss ? api::GraphKind::Gradient
                                                       : api::GraphKind::Train,
                                    diags, {false, o.common.remat, true});
  codegen::JitOptions cold = jo;
  cold.cache = false;
  auto train = std::make_unique<codegen::NativeEngine>(*trainGraph, cold, &pool);
  double compileMs = msSince(t0);
  // ... and the same from the cache (written now unless --no-cache).
  double cachedMs = -1;
  if (jo.cache) {
    codegen::NativeEngine warm(*trainGraph, jo, &pool); // fills the cache
    auto t1 = Clock::now();
    SourceManager sm2;
    DiagnosticEngine diags2(sm2, &std::cerr);
    FrontendResult fr2 = runFrontend(o.common.file, nullptr, o.common.frontend(), sm2, diags2);
    auto g2 = api::buildGraph(*fr2.model, hasLoss ? api::GraphKind::Gradient
                                                  : api::GraphKind::Train,
                              diags2, {false, o.common.remat, true});
    codegen::NativeEngine hit(*g2, jo, &pool);
    cachedMs = msSince(t1);
    if (!hit.code().fromCache)
      cachedMs = -1; // the cache directory is not writable
  }
  auto evalGraph = api::buildGraph(*fr.model, api::GraphKind::Eval, diags, {true, false, true});
  codegen::NativeEngine eval(*evalGraph, jo, &pool);

  for (runtime::Engine *e : {static_cast<runtime::Engine *>(train.get()),
                             static_cast<runtime::Engine *>(&eval)}) {
    e->initParams(o.data.seed);
    e->setNoiseSeed(o.data.seed);
    loadUserArrays(*e, e->graph(), o.data.params, o.data.inputsNpz, o.data.ins);
    api::fillMissingInputs(*e, o.data.seed);
  }
  double forwardMs = timeIt(o.iters, [&] { eval.run(); });
  double gradMs = hasLoss ? timeIt(o.iters, [&] { train->run(); }) : -1;

  auto orNull = [](double v) { return v < 0 ? nlohmann::json() : nlohmann::json(v); };
  if (o.json) {
    nlohmann::ordered_json j;
    j["model"] = fr.model->name;
    j["compile_ms"] = compileMs;
    j["cached_compile_ms"] = orNull(cachedMs);
    j["llvm_ms"] = train->code().llvmMs;
    j["forward_ms"] = forwardMs;
    j["grad_ms"] = orNull(gradMs);
    // A training step adds the optimizer's update, which arrives with
    // `gradc train`; until then there is no step to time.
    j["step_ms"] = nullptr;
    j["peak_bytes"] = plannedBytes(*train);
    j["threads"] = pool.size();
    j["iters"] = o.iters;
    std::cout << j.dump(2) << "\n";
    return kOk;
  }
  std::printf("model %s, %d thread%s, medians of %d runs\n", fr.model->name.c_str(), pool.size(),
              pool.size() == 1 ? "" : "s", o.iters);
  std::printf("  compile          %9.2f ms  (LLVM %.2f ms)\n", compileMs, train->code().llvmMs);
  if (cachedMs >= 0)
    std::printf("  compile, cached  %9.2f ms\n", cachedMs);
  std::printf("  forward          %9.3f ms\n", forwardMs);
  if (gradMs >= 0)
    std::printf("  forward+backward %9.3f ms\n", gradMs);
  std::printf("  peak memory      %9.2f MiB\n",
              static_cast<double>(plannedBytes(*train)) / (1024.0 * 1024.0));
  if (o.profile)
    printProfile(*train, sm, hasLoss ? "forward+backward" : "forward");
  return kOk;
}

} // namespace

Command addBench(CLI::App &app) {
  auto o = std::make_shared<BenchOptions>();
  CLI::App *cmd = app.add_subcommand("bench", "time a model's compile, forward and backward");
  o->common.add(*cmd);
  o->data.add(*cmd);
  o->native.add(*cmd);
  cmd->add_option("--iters", o->iters, "timed runs of each pass (median reported)")
      ->check(CLI::Range(1, 1000000));
  cmd->add_flag("--profile", o->profile,
                "time every kernel of the forward+backward runs and list the slowest");
  cmd->add_flag("--json", o->json,
                "print {compile_ms, cached_compile_ms, llvm_ms, forward_ms, grad_ms, step_ms, "
                "peak_bytes, threads}");
  return {cmd, [o] { return runBench(*o); }};
}

} // namespace gradc::tool
