//===- tools/CmdCheck.cpp - gradc check -----------------------------------===//
//
// Parses and checks a model, then lists its inputs, parameters (with the
// parameter count) and outputs, as text or as one JSON object.
//
//===----------------------------------------------------------------------===//
#include "frontend/OobCheck.h"
#include "passes/Autodiff.h"
#include "tools/Commands.h"
#include "api/Pipeline.h"

#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>

namespace gradc::tool {

namespace {

struct CheckOptions {
  CommonOptions common;
  bool json = false;
  bool warnOob = false;
};

std::string dtypeOf(const sema::Tensor &t) { return t.isInt ? "int" : "f32"; }

std::string shapeText(const std::vector<int64_t> &s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i)
    r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

int64_t elements(const sema::Tensor &t) {
  int64_t n = 1;
  for (int64_t d : t.shape)
    n *= d;
  return n;
}

int runCheck(const CheckOptions &o) {
  SourceManager sm;
  DiagnosticEngine diags(sm, &std::cerr);
  FrontendOptions fo = o.common.frontend();
  FrontendResult fr = runFrontend(o.common.file, nullptr, fo, sm, diags);
  const sema::Model &m = *fr.model;
  if (o.warnOob)
    warnOutOfBoundsReads(m, diags);

  // Inputs and parameters in declaration order (a def's at its call).
  std::vector<const sema::Tensor *> inputs, params, state, noise;
  std::vector<const sema::Tensor *> leaves;
  for (auto &t : m.tensors)
    if (t.role != sema::Role::Equation)
      leaves.push_back(&t);
  auto before = [](SourceLoc a, SourceLoc b) {
    if (a.file != b.file)
      return a.file < b.file;
    return a.line != b.line ? a.line < b.line : a.col < b.col;
  };
  std::stable_sort(leaves.begin(), leaves.end(), [&](auto *a, auto *b) {
    return std::lexicographical_compare(a->orderKey.begin(), a->orderKey.end(),
                                        b->orderKey.begin(), b->orderKey.end(), before);
  });
  for (auto *t : leaves) {
    if (t->role == sema::Role::Input)
      inputs.push_back(t);
    else if (t->role == sema::Role::Param)
      params.push_back(t);
    else if (t->role == sema::Role::State)
      state.push_back(t);
    else
      noise.push_back(t);
  }
  if (o.json) {
    using nlohmann::ordered_json;
    auto entry = [](const sema::Tensor &t) {
      return ordered_json{{"name", t.name}, {"shape", t.shape}, {"dtype", dtypeOf(t)}};
    };
    ordered_json j;
    j["model"] = m.name;
    j["inputs"] = ordered_json::array();
    for (auto *t : inputs)
      j["inputs"].push_back(entry(*t));
    j["params"] = ordered_json::array();
    for (auto *t : params) {
      auto e = entry(*t);
      e["init"] = t->init.str();
      j["params"].push_back(e);
    }
    j["outputs"] = ordered_json::array();
    for (auto &out : m.outputs)
      j["outputs"].push_back(entry(m.tensors[out.tensor]));
    j["loss"] = m.loss ? ordered_json(m.loss->name) : ordered_json(nullptr);
    j["metrics"] = ordered_json::array();
    for (auto &mt : m.metrics)
      j["metrics"].push_back(mt.name);
    j["param_count"] = m.paramCount();
    j["state"] = ordered_json::array();
    for (auto *t : state)
      j["state"].push_back(entry(*t));
    j["noise"] = ordered_json::array();
    for (auto *t : noise) {
      auto e = entry(*t);
      e["init"] = t->init.str();
      j["noise"].push_back(e);
    }
    // What backpropagation keeps from the forward pass (training: the
    // gradient with respect to the parameters).
    if (m.loss)
      j["saved_bytes"] = passes::savedBytes(*api::buildGraph(m, api::GraphKind::Gradient, diags, {false, o.common.remat}));
    else
      j["saved_bytes"] = 0;
    j["dims"] = ordered_json::object();
    for (auto &[k, v] : m.dims)
      j["dims"][k] = v;
    std::cout << j.dump(2) << "\n";
    return kOk;
  }
  std::cout << "model " << m.name << "\n";
  auto list = [&](const char *title, const std::vector<const sema::Tensor *> &ts, bool count) {
    std::cout << title << ":\n";
    if (ts.empty())
      std::cout << "  (none)\n";
    for (auto *t : ts) {
      std::cout << "  " << t->name << " : " << dtypeOf(*t) << shapeText(t->shape);
      if (count)
        std::cout << "  (" << elements(*t) << ")  " << t->init.str();
      std::cout << "\n";
    }
  };
  list("inputs", inputs, false);
  list("params", params, true);
  std::cout << "  total: " << m.paramCount() << " parameters\n";
  if (!state.empty())
    list("state", state, false);
  if (!noise.empty())
    list("noise", noise, false);
  std::vector<const sema::Tensor *> outs;
  for (auto &out : m.outputs)
    outs.push_back(&m.tensors[out.tensor]);
  list("outputs", outs, false);
  if (m.loss)
    std::cout << "minimize: " << m.loss->name << "\n";
  for (auto &mt : m.metrics)
    std::cout << "metric: " << mt.name << "\n";
  return kOk;
}

} // namespace

Command addCheck(CLI::App &app) {
  auto o = std::make_shared<CheckOptions>();
  CLI::App *cmd = app.add_subcommand("check", "parse and check a model; list its tensors");
  o->common.add(*cmd);
  cmd->add_flag("--json", o->json, "print one JSON object");
  cmd->add_flag("--warn-oob", o->warnOob, "list reads that can fall outside a tensor (zero padding)");
  return {cmd, [o] { return runCheck(*o); }};
}

} // namespace gradc::tool
