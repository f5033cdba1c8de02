//===- tools/CmdRun.cpp - gradc run ---------------------------------------===//
//
// Runs the forward pass of a model on inputs from .npy/.npz files and writes
// (or prints) its outputs and the minimized scalar: as native code, or with
// --interp in the reference interpreter (double precision).
//
//===----------------------------------------------------------------------===//
#include "frontend/Lowering.h"
#include "ir/Verifier.h"
#include "runtime/HostArray.h"
#include "codegen/NativeEngine.h"
#include "runtime/Interpreter.h"
#include "runtime/ThreadPool.h"
#include "runtime/NpyIO.h"
#include "support/Assert.h"
#include "tools/Commands.h"
#include "tools/LeafArrays.h"
#include "api/Pipeline.h"

#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>

namespace gradc::tool {

namespace {

using runtime::DTensor;
using runtime::ElemType;
using runtime::HostArray;

struct RunOptions {
  CommonOptions common;
  DataOptions data;
  NativeOptions native;
  std::string outDir;
  std::string saveParams;
  bool trainMode = false;
  bool interp = false;
  bool backward = false;
};

void printValue(const std::string &name, const DTensor &t) {
  std::cout << name << " : " << t.type.str() << "\n  ";
  size_t n = std::min<size_t>(t.data.size(), 8);
  for (size_t i = 0; i < n; ++i)
    std::cout << (i ? " " : "") << t.data[i];
  if (t.data.size() > n)
    std::cout << " ...";
  std::cout << "\n";
}

int runRun(const RunOptions &o) {
  SourceManager sm;
  DiagnosticEngine diags(sm, &std::cerr);
  FrontendResult fr = runFrontend(o.common.file, nullptr, o.common.frontend(), sm, diags);
  std::unique_ptr<ir::Graph> g =
      api::buildGraph(*fr.model,
                 o.backward ? api::GraphKind::Gradient : o.trainMode ? api::GraphKind::Train : api::GraphKind::Eval,
                 diags, {true, o.common.remat, /*optimize=*/!o.interp});

  std::unique_ptr<runtime::ThreadPool> pool;
  std::unique_ptr<runtime::Engine> engine;
  if (o.interp) {
    engine = std::make_unique<runtime::Interpreter>(*g);
  } else {
    pool = std::make_unique<runtime::ThreadPool>(o.native.threads);
    engine = std::make_unique<codegen::NativeEngine>(*g, o.native.jit(), pool.get());
  }
  runtime::Engine &in = *engine;
  in.initParams(o.data.seed);
  in.setNoiseSeed(o.data.seed);
  loadUserArrays(in, *g, o.data.params, o.data.inputsNpz, o.data.ins);
  if (auto missing = in.missingInputs(); !missing.empty())
    dataError("missing input '" + missing[0] + "' (give --in " + missing[0] +
              "=FILE.npy or --inputs FILE.npz)");
  try {
    in.run();
  } catch (const runtime::RuntimeFault &f) {
    diags.error(f.loc, f.what());
    return kUserError;
  }
  std::vector<std::pair<std::string, DTensor>> results;
  for (auto &out : g->outputs)
    results.emplace_back(out.name, in.value(out.value));
  if (g->loss.value)
    results.emplace_back(g->loss.name, in.value(g->loss.value));
  for (auto &m : g->metrics)
    results.emplace_back(m.name, in.value(m.value));
  // Gradients: grad/NAME for every parameter and f32 input.
  std::vector<std::pair<std::string, DTensor>> grads;
  for (auto &gr : g->gradients)
    grads.emplace_back(gr.name.substr(5), in.value(gr.value));
  if (o.outDir.empty()) {
    for (auto &[name, t] : results)
      printValue(name, t);
    for (auto &[name, t] : grads)
      printValue("grad." + name, t);
  } else {
    std::error_code ec;
    std::filesystem::create_directories(o.outDir, ec);
    if (ec)
      dataError("cannot create directory '" + o.outDir + "': " + ec.message());
    for (auto &[name, t] : results) {
      std::string err;
      if (!runtime::writeNpy(o.outDir + "/" + name + ".npy", toHost(t), err))
        dataError(err);
    }
    if (!grads.empty()) {
      std::filesystem::create_directories(o.outDir + "/grad", ec);
      if (ec)
        dataError("cannot create directory '" + o.outDir + "/grad': " + ec.message());
    }
    for (auto &[name, t] : grads) {
      std::string err;
      if (!runtime::writeNpy(o.outDir + "/grad/" + name + ".npy", toHost(t), err))
        dataError(err);
    }
  }
  if (!o.saveParams.empty()) {
    std::vector<std::pair<std::string, HostArray>> ps;
    for (auto *leaf : g->leaves(ir::OpKind::Param))
      ps.emplace_back(leaf->name, toHost(in.leafValue(leaf->name)));
    for (auto *leaf : g->leaves(ir::OpKind::State))
      ps.emplace_back(leaf->name, toHost(in.leafValue(leaf->name)));
    std::string err;
    if (!runtime::writeNpz(o.saveParams, ps, err))
      dataError(err);
  }
  return kOk;
}

} // namespace

Command addRun(CLI::App &app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App *cmd = app.add_subcommand("run", "run a model's forward pass");
  o->common.add(*cmd);
  o->data.add(*cmd);
  cmd->add_option("--out", o->outDir, "write DIR/NAME.npy for every output and the loss");
  cmd->add_option("--save-params", o->saveParams, "write the parameters used (.npz)");
  cmd->add_flag("--train-mode", o->trainMode, "run the training graph (training = 1)");
  cmd->add_flag("--interp", o->interp,
                "run the reference interpreter (double precision) instead of native code");
  o->native.add(*cmd);
  cmd->add_flag("--backward", o->backward,
                "also compute gradients (training graph; writes DIR/grad/NAME.npy for every "
                "parameter and f32 input)");
  return {cmd, [o] { return runRun(*o); }};
}

} // namespace gradc::tool
