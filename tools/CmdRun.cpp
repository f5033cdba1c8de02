//===- tools/CmdRun.cpp - gradc run ---------------------------------------===//
//
// Runs the forward pass of a model on inputs from .npy/.npz files and writes
// (or prints) its outputs, the minimized scalar and the metrics: as native
// code, or with --interp in the reference interpreter. Built on the session
// API (include/gradc/gradc.h), as a program of the user's would be.
//
//===----------------------------------------------------------------------===//
#include "api/ArrayConvert.h"
#include "gradc/gradc.h"
#include "runtime/NpyIO.h"
#include "tools/Commands.h"
#include "tools/LeafArrays.h"
#include "tools/SessionData.h"

#include <filesystem>
#include <iostream>
#include <set>

namespace gradc::tool {

namespace {

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

void printValue(const std::string &name, const Tensor &t) {
  std::cout << name << " : " << api::typeString(t.dtype, t.shape) << "\n  ";
  size_t size = static_cast<size_t>(t.size()), n = std::min<size_t>(size, 8);
  for (size_t i = 0; i < n; ++i) {
    std::cout << (i ? " " : "");
    if (t.dtype == DType::I32)
      std::cout << t.i32[i];
    else
      std::cout << t.f32[i];
  }
  if (size > n)
    std::cout << " ...";
  std::cout << "\n";
}

void writeArray(const std::string &path, const Tensor &t) {
  std::string err;
  if (!runtime::writeNpy(path, api::arrayFromTensor(t), err))
    dataError(err);
}

void makeDir(const std::string &dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec)
    dataError("cannot create directory '" + dir + "': " + ec.message());
}

int runRun(const RunOptions &o) {
  Options opts = sessionOptions(o.common, o.native);
  opts.interpreter = o.interp;
  opts.warnings = &std::cerr;
  auto model = Model::fromFile(o.common.file, opts);
  Session s(model, o.data.seed);
  if (!o.data.params.empty())
    s.loadParams(o.data.params);
  std::set<std::string> given = setInputsFromFiles(s, *model, o.data);
  for (const TensorInfo &in : model->inputs())
    if (!given.count(in.name))
      dataError("missing input '" + in.name + "' (give --in " + in.name +
                "=FILE.npy or --inputs FILE.npz)");
  if (o.backward)
    s.backward();
  else
    s.forward(o.trainMode);

  std::vector<std::pair<std::string, Tensor>> results;
  for (const TensorInfo &out : model->outputs())
    results.emplace_back(out.name, s.output(out.name));
  // Gradients: grad/NAME for every parameter and f32 input.
  std::vector<std::pair<std::string, Tensor>> grads;
  if (o.backward)
    for (const std::string &name : s.gradientNames())
      grads.emplace_back(name, s.gradient(name));
  if (o.outDir.empty()) {
    for (auto &[name, t] : results)
      printValue(name, t);
    for (auto &[name, t] : grads)
      printValue("grad." + name, t);
  } else {
    makeDir(o.outDir);
    for (auto &[name, t] : results)
      writeArray(o.outDir + "/" + name + ".npy", t);
    if (!grads.empty())
      makeDir(o.outDir + "/grad");
    for (auto &[name, t] : grads)
      writeArray(o.outDir + "/grad/" + name + ".npy", t);
  }
  if (!o.saveParams.empty())
    s.saveParams(o.saveParams);
  return kOk;
}

} // namespace

Command addRun(CLI::App &app) {
  auto o = std::make_shared<RunOptions>();
  CLI::App *cmd = app.add_subcommand("run", "run a model's forward pass");
  o->common.add(*cmd);
  o->data.add(*cmd);
  cmd->add_option("--out", o->outDir, "write DIR/NAME.npy for every output and the loss");
  cmd->add_option("--save-params", o->saveParams, "write the parameters used (.safetensors if the name ends so, else .npz)");
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
