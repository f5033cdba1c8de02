//===- tools/CmdBench.cpp - gradc bench -----------------------------------===//
//
// Times a model's native code: the compile (front end, autodiff and LLVM;
// always a cold compile, the cache bypassed, plus the time of loading the
// same code from the cache), then `--iters` runs each of the forward pass
// (evaluation graph) and the forward+backward pass (training graph),
// reporting medians after warm-up runs. Inputs the user does not give are
// drawn as gradcheck draws them, parameters from --seed. Peak memory is the
// planned storage of the training graph: its arena and its leaves. Built on
// the session API, as a user's program would time a model.
//
//===----------------------------------------------------------------------===//
#include "gradc/gradc.h"
#include "tools/Commands.h"
#include "tools/SessionData.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>

namespace gradc::tool {

namespace {

struct BenchOptions {
  CommonOptions common;
  DataOptions data;
  NativeOptions native;
  int iters = 20;
  bool json = false;
  bool profile = false;
  bool inputGradients = false;
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

/// Where the time of `kernels` went, by kind of op and then the slowest
/// kernels, with their equations.
void printProfile(const std::vector<KernelTime> &kernels, const char *pass) {
  double total = 0;
  std::map<std::string, std::pair<double, int>> byKind;
  for (const KernelTime &k : kernels) {
    total += k.ms;
    byKind[k.kind].first += k.ms;
    ++byKind[k.kind].second;
  }
  // By kind first: a model with many cheap kernels spends its time in no
  // single one.
  std::vector<std::pair<std::string, std::pair<double, int>>> kinds(byKind.begin(), byKind.end());
  std::sort(kinds.begin(), kinds.end(),
            [](const auto &a, const auto &b) { return a.second.first > b.second.first; });
  auto pct = [&](double ms) { return total > 0 ? 100.0 * ms / total : 0.0; };
  std::printf("  time by kind of kernel in all %s runs:\n", pass);
  for (const auto &[kind, tn] : kinds)
    std::printf("    %5.1f%%  %-14s %4d kernel%s\n", pct(tn.first), kind.c_str(), tn.second,
                tn.second == 1 ? "" : "s");
  std::printf("  kernels by time in all %s runs (%zu kernels):\n", pass, kernels.size());
  for (size_t r = 0; r < kernels.size() && r < 15; ++r)
    std::printf("    %5.1f%%  %-28s %s\n", pct(kernels[r].ms), kernels[r].name.c_str(),
                kernels[r].location.c_str());
}

/// A model and a session over it with the command line's options, compiled
/// for what a training step needs (the forward pass for a model without a
/// loss); returns what the compile cost, and in `ms` the time of the front
/// end and the compile (drawing the parameters is not compiling).
CompileInfo compileSession(const BenchOptions &o, const Options &opts,
                           std::shared_ptr<Model> &model, std::unique_ptr<Session> &s,
                           double &ms) {
  auto t0 = Clock::now();
  model = Model::fromFile(o.common.file, opts);
  ms = msSince(t0);
  s = std::make_unique<Session>(model, o.data.seed);
  auto t1 = Clock::now();
  CompileInfo info = s->compile(model->hasLoss());
  ms += msSince(t1);
  return info;
}

int runBench(const BenchOptions &o) {
  Options opts = sessionOptions(o.common, o.native);
  opts.profile = o.profile;
  opts.warnings = &std::cerr;
  // A training step differentiates with respect to the parameters only, as
  // PyTorch does for inputs that do not require gradients.
  opts.inputGradients = o.inputGradients;

  // A cold compile of what a training step needs (the cache bypassed) ...
  std::shared_ptr<Model> model;
  std::unique_ptr<Session> s;
  Options cold = opts;
  cold.cache = false;
  double compileMs = 0;
  CompileInfo info = compileSession(o, cold, model, s, compileMs);
  bool hasLoss = model->hasLoss();
  // ... and the same from the cache (written now unless --no-cache).
  double cachedMs = -1;
  if (opts.cache) {
    std::shared_ptr<Model> m2;
    std::unique_ptr<Session> s2;
    double ms = 0;
    compileSession(o, opts, m2, s2, ms); // fills the cache
    CompileInfo hit = compileSession(o, opts, m2, s2, ms);
    cachedMs = hit.fromCache ? ms : -1; // -1: the cache directory is not writable
  }

  // The timed session: the training graph compiled cold above, the
  // evaluation graph from the cache.
  if (!o.data.params.empty())
    s->loadParams(o.data.params);
  setInputsFromFiles(*s, *model, o.data);
  s->fillMissingInputs(o.data.seed);
  s->compile(false);
  double forwardMs = timeIt(o.iters, [&] { s->forward(); });
  double gradMs = hasLoss ? timeIt(o.iters, [&] { s->backward(); }) : -1;
  // A training step: forward, backward and the model's optimizer (else adam),
  // the update kernel compiled by an untimed first step.
  double stepMs = -1;
  if (hasLoss) {
    s->trainStep();
    stepMs = timeIt(o.iters, [&] { s->trainStep(); });
  }

  auto orNull = [](double v) { return v < 0 ? nlohmann::json() : nlohmann::json(v); };
  if (o.json) {
    nlohmann::ordered_json j;
    j["model"] = model->name();
    j["compile_ms"] = compileMs;
    j["cached_compile_ms"] = orNull(cachedMs);
    j["llvm_ms"] = info.llvmMs;
    j["forward_ms"] = forwardMs;
    j["grad_ms"] = orNull(gradMs);
    j["step_ms"] = orNull(stepMs);
    j["peak_bytes"] = info.plannedBytes;
    j["threads"] = info.threads;
    j["iters"] = o.iters;
    std::cout << j.dump(2) << "\n";
    return kOk;
  }
  std::printf("model %s, %d thread%s, medians of %d runs\n", model->name().c_str(),
              info.threads, info.threads == 1 ? "" : "s", o.iters);
  std::printf("  compile          %9.2f ms  (LLVM %.2f ms)\n", compileMs, info.llvmMs);
  if (cachedMs >= 0)
    std::printf("  compile, cached  %9.2f ms\n", cachedMs);
  std::printf("  forward          %9.3f ms\n", forwardMs);
  if (gradMs >= 0)
    std::printf("  forward+backward %9.3f ms\n", gradMs);
  if (stepMs >= 0)
    std::printf("  training step    %9.3f ms  (%s)\n", stepMs, s->optimizerDescription().c_str());
  std::printf("  peak memory      %9.2f MiB\n",
              static_cast<double>(info.plannedBytes) / (1024.0 * 1024.0));
  if (o.profile)
    printProfile(s->profile(hasLoss), hasLoss ? "forward+backward" : "forward");
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
  cmd->add_flag("--input-gradients", o->inputGradients,
                "the backward pass also differentiates with respect to the f32 inputs "
                "(default: the parameters only, as in training)");
  cmd->add_flag("--json", o->json,
                "print {compile_ms, cached_compile_ms, llvm_ms, forward_ms, grad_ms, step_ms, "
                "peak_bytes, threads}");
  return {cmd, [o] { return runBench(*o); }};
}

} // namespace gradc::tool
