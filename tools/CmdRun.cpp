//===- tools/CmdRun.cpp - gradc run ---------------------------------------===//
//
// Runs the forward pass of a model on inputs from .npy/.npz files and writes
// (or prints) its outputs and the minimized scalar. Until native code
// exists, the reference interpreter runs it.
//
//===----------------------------------------------------------------------===//
#include "frontend/Lowering.h"
#include "ir/Verifier.h"
#include "runtime/HostArray.h"
#include "runtime/Interpreter.h"
#include "runtime/NpyIO.h"
#include "support/Assert.h"
#include "tools/Commands.h"

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
  std::vector<std::string> ins;
  std::string inputsNpz;
  std::string params;
  uint64_t seed = 0;
  std::string outDir;
  std::string saveParams;
  bool trainMode = false;
  bool interp = false;
};

/// A user-facing error about a data file: "FILE: error: MESSAGE", exit 1.
[[noreturn]] void dataError(const std::string &what) {
  std::cerr << "gradc: error: " << what << "\n";
  throw UserError();
}

/// Converts an array from a file into the leaf's type, or explains why not.
DTensor toLeafValue(const HostArray &a, const ir::Op &leaf, const std::string &source) {
  const ir::TensorType &ty = leaf.result()->type;
  if (a.shape != ty.shape) {
    std::string want = ty.str();
    dataError(source + ": '" + leaf.name + "' must have shape " +
              want.substr(want.find('[')) + ", but the array is " + a.typeStr() +
              " (-D changes a model's sizes)");
  }
  bool wantInt = ty.dtype == ir::DType::I32;
  std::string why;
  HostArray conv;
  if (wantInt) {
    if (runtime::isFloat(a.type))
      dataError(source + ": '" + leaf.name + "' is an int input, but the array holds " +
                runtime::elemTypeName(a.type) + " values");
    conv = runtime::convertTo(a, ElemType::I32, why);
  } else {
    if (!runtime::isFloat(a.type))
      dataError(source + ": '" + leaf.name + "' is f32, but the array holds " +
                runtime::elemTypeName(a.type) + " values");
    conv = runtime::convertTo(a, ElemType::F32, why);
  }
  if (!why.empty())
    dataError(source + ": '" + leaf.name + "': " + why);
  DTensor t = DTensor::zeros(ty);
  for (int64_t i = 0; i < conv.numElements(); ++i)
    t.data[i] = wantInt ? static_cast<double>(conv.i32()[i]) : static_cast<double>(conv.f32()[i]);
  return t;
}

HostArray toHost(const DTensor &t) {
  bool isInt = t.type.dtype == ir::DType::I32;
  HostArray a = HostArray::zeros(isInt ? ElemType::I32 : ElemType::F32, t.type.shape);
  for (size_t i = 0; i < t.data.size(); ++i) {
    if (isInt)
      a.i32()[i] = static_cast<int32_t>(t.data[i]);
    else
      a.f32()[i] = static_cast<float>(t.data[i]);
  }
  return a;
}

/// An array given on the command line, with the file it came from.
struct NamedInput {
  std::string name;
  HostArray array;
  std::string source; ///< the file, for error messages
};

/// Reads NAME=FILE pairs and .npz archives into named arrays.
std::vector<NamedInput> readNamed(const RunOptions &o) {
  std::vector<NamedInput> out;
  std::string err;
  if (!o.inputsNpz.empty()) {
    auto arrays = runtime::readNpz(o.inputsNpz, err);
    if (!arrays)
      dataError(err);
    for (auto &p : *arrays)
      out.push_back({p.first, std::move(p.second), o.inputsNpz});
  }
  for (const std::string &spec : o.ins) {
    auto eq = spec.find('=');
    if (eq == std::string::npos || eq == 0)
      throw sema::UsageError("--in " + spec + ": expected NAME=FILE.npy");
    std::string name = spec.substr(0, eq), file = spec.substr(eq + 1);
    for (auto &prev : out)
      if (prev.name == name)
        throw sema::UsageError("--in " + spec + ": '" + name + "' is given twice (also in " +
                               prev.source + ")");
    auto arr = runtime::readNpy(file, err);
    if (!arr)
      dataError(err);
    out.push_back({name, std::move(*arr), file});
  }
  return out;
}

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
  std::unique_ptr<ir::Graph> g = lowerModel(*fr.model, o.trainMode);
  if (auto problems = ir::verifyGraph(*g); !problems.empty())
    throw InternalError("the IR after lowering is malformed: " + problems[0]);

  runtime::Interpreter in(*g);
  in.initParams(o.seed);
  in.setNoiseSeed(o.seed);
  if (!o.params.empty()) {
    std::string err;
    auto arrays = runtime::readNpz(o.params, err);
    if (!arrays)
      dataError(err);
    for (auto &[name, arr] : *arrays) {
      const ir::Op *leaf = in.findLeaf(name);
      if (!leaf || (leaf->kind != ir::OpKind::Param && leaf->kind != ir::OpKind::State))
        dataError(o.params + ": '" + name + "' is not a parameter or state of model '" +
                  g->modelName + "'");
      in.set(name, toLeafValue(arr, *leaf, o.params));
    }
  }
  for (NamedInput &ni : readNamed(o)) {
    const ir::Op *leaf = in.findLeaf(ni.name);
    if (!leaf || leaf->kind == ir::OpKind::Param || leaf->kind == ir::OpKind::State)
      dataError(ni.source + ": '" + ni.name + "' is not an input or noise of model '" +
                g->modelName + "'" + (leaf ? " (parameters come from --params)" : ""));
    in.set(ni.name, toLeafValue(ni.array, *leaf, ni.source));
  }
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
  if (o.outDir.empty()) {
    for (auto &[name, t] : results)
      printValue(name, t);
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
  cmd->add_option("--in", o->ins, "an input (or noise) array: NAME=FILE.npy");
  cmd->add_option("--inputs", o->inputsNpz, "inputs as one .npz, keys named after the inputs");
  cmd->add_option("--params", o->params, "parameters (.npz); missing ones come from --seed");
  cmd->add_option("--seed", o->seed, "seed for parameter initialization and noise");
  cmd->add_option("--out", o->outDir, "write DIR/NAME.npy for every output and the loss");
  cmd->add_option("--save-params", o->saveParams, "write the parameters used (.npz)");
  cmd->add_flag("--train-mode", o->trainMode, "run the training graph (training = 1)");
  cmd->add_flag("--interp", o->interp, "run the reference interpreter (the default for now)");
  return {cmd, [o] { return runRun(*o); }};
}

} // namespace gradc::tool
