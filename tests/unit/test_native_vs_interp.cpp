//===- tests/unit/test_native_vs_interp.cpp - Native code against the oracle ===//
//
// Differential tests: every course model (models/) and every gradient test
// model (tests/golden/grad/) runs in the reference interpreter (double
// precision) and as native code (float32) from the same parameters, inputs
// and noise; every output, loss, metric and gradient must agree to a
// relative error of 1e-4 (max-norm over the tensor: float32 rounding of long
// sums is relative to the tensor's scale, not to each tiny element, and a
// scale below 0.01 counts as 0.01). The
// evaluation graph, the gradient graph, and for recurrent models the
// gradient graph with --remat checkpointing are all compared, and the
// results at 1 and 2 threads must be identical.
//
//===----------------------------------------------------------------------===//
#include "api/InputFill.h"
#include "api/Pipeline.h"
#include "codegen/NativeEngine.h"
#include "frontend/CompileModel.h"
#include "runtime/Interpreter.h"
#include "runtime/ThreadPool.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

using namespace gradc;

namespace {

std::vector<std::string> modelFiles() {
  std::vector<std::string> files;
  for (const char *dir : {GRADC_MODELS_DIR, GRADC_GRAD_TESTS_DIR})
    for (auto &e : std::filesystem::directory_iterator(dir))
      if (e.path().extension() == ".grad")
        files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

/// ||a - b||∞ / ||b||∞ (0 when both are zero), with NaN and infinity
/// required at the same positions.
double maxNormError(const runtime::DTensor &a, const runtime::DTensor &b) {
  double diff = 0, scale = 0;
  for (size_t i = 0; i < b.data.size(); ++i) {
    double x = a.data[i], y = b.data[i];
    if (std::isnan(x) || std::isnan(y) || std::isinf(x) || std::isinf(y)) {
      if (!(std::isnan(x) && std::isnan(y)) && x != y)
        return INFINITY;
      continue;
    }
    diff = std::max(diff, std::fabs(x - y));
    scale = std::max(scale, std::fabs(y));
  }
  // A tensor that is zero in exact arithmetic (the gradient of a bias under
  // batch norm) holds float32 rounding noise: scales below 0.01 count as 0.01.
  return diff / std::max(scale, 0.01);
}

struct Compared {
  double worst = 0;
  std::string where;
};

/// Runs `g` both ways and compares every named result.
Compared compareGraph(const ir::Graph &g, uint64_t seed, runtime::ThreadPool *pool,
                      std::vector<runtime::DTensor> *results = nullptr) {
  codegen::JitOptions jo;
  jo.cache = false;
  codegen::NativeEngine native(g, jo, pool);
  runtime::Interpreter interp(g);
  native.initParams(seed);
  interp.initParams(seed);
  api::fillMissingInputs(native, seed);
  for (auto &op : g.top.ops)
    if (op->kind == ir::OpKind::Input)
      interp.set(op->name, native.leafValue(op->name));
  native.setNoiseSeed(seed);
  interp.setNoiseSeed(seed);
  native.run();
  interp.run();
  Compared c;
  auto check = [&](const ir::NamedValue &nv) {
    runtime::DTensor a = native.value(nv.value), b = interp.value(nv.value);
    double e = maxNormError(a, b);
    if (results)
      results->push_back(a);
    if (e > c.worst || std::isnan(e)) {
      c.worst = e;
      c.where = nv.name;
    }
  };
  for (auto &o : g.outputs)
    check(o);
  if (g.loss.value)
    check(g.loss);
  for (auto &m : g.metrics)
    check(m);
  for (auto &gr : g.gradients)
    check(gr);
  return c;
}

bool hasRecurrence(const ir::Graph &g) {
  for (auto &op : g.top.ops)
    if (op->kind == ir::OpKind::Recurrence)
      return true;
  return false;
}

} // namespace

TEST_CASE("native code matches the interpreter on every model") {
  runtime::ThreadPool pool(2);
  for (const std::string &file : modelFiles()) {
    SourceManager sm;
    std::ostringstream diagText;
    DiagnosticEngine diags(sm, &diagText);
    diags.setWarningsEnabled(false);
    FrontendResult fr = runFrontend(file, nullptr, FrontendOptions{}, sm, diags);
    REQUIRE_MESSAGE(fr.model, file);
    std::vector<std::pair<std::string, std::unique_ptr<ir::Graph>>> graphs;
    graphs.emplace_back("eval", api::buildGraph(*fr.model, api::GraphKind::Eval, diags));
    if (fr.model->loss) {
      graphs.emplace_back("grad", api::buildGraph(*fr.model, api::GraphKind::Gradient, diags));
      if (hasRecurrence(*graphs.back().second))
        graphs.emplace_back("remat", api::buildGraph(*fr.model, api::GraphKind::Gradient, diags,
                                                     {true, true}));
    }
    for (auto &[kind, g] : graphs) {
      CAPTURE(file);
      CAPTURE(kind);
      std::vector<runtime::DTensor> two, one;
      Compared c = compareGraph(*g, 7, &pool, &two);
      CAPTURE(c.where);
      CHECK(c.worst <= 1e-4);
      // One thread computes the same values: loops split by output rows.
      compareGraph(*g, 7, nullptr, &one);
      REQUIRE(one.size() == two.size());
      for (size_t i = 0; i < one.size(); ++i)
        CHECK(one[i].data == two[i].data);
    }
  }
}
