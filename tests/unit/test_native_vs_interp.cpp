//===- tests/unit/test_native_vs_interp.cpp - Native code against the oracle ===//
//
// Differential tests: every course model (models/) and every gradient test
// model (tests/golden/grad/) runs in the reference interpreter (double
// precision) and as native code (float32) from the same parameters, inputs
// and noise; every output, loss, metric and gradient must agree within
// max|a - b| <= 1e-4 * max|b| + 1e-5 per tensor (float32 rounding of long
// sums is relative to the tensor's scale, not to each tiny element, and a
// tensor that is zero in exact arithmetic holds rounding noise). The
// evaluation graph, the gradient graph, and for recurrent models the
// gradient graph with --remat checkpointing are all compared, and the
// results at 1 and 2 threads must be identical. The native side runs the
// graph after the rewrites for native code (contraction packing, applied here
// to every contraction it can take, however small), so the rewrites are
// checked against the interpreter's plain graph as well.
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
  // allclose with rtol 1e-4 of the tensor's scale and atol 1e-5, as one
  // number: <= 1e-4 passes. A tensor that is zero in exact arithmetic (the
  // gradient of a bias under batch norm) holds float32 rounding noise, which
  // only the absolute tolerance can judge.
  return diff / (scale + 0.1);
}

struct Compared {
  double worst = 0;
  std::string where;
};

/// Runs `ng` (the graph after the rewrites for native code) natively and `g`
/// in the interpreter, and compares every named result (both graphs list
/// them in the same order).
Compared compareGraph(const ir::Graph &g, const ir::Graph &ng, uint64_t seed,
                      runtime::ThreadPool *pool, std::vector<runtime::DTensor> *results = nullptr) {
  codegen::JitOptions jo;
  jo.cache = false;
  codegen::NativeEngine native(ng, jo, pool);
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
  auto check = [&](const ir::NamedValue &nn, const ir::NamedValue &nv) {
    REQUIRE(nn.name == nv.name);
    runtime::DTensor a = native.value(nn.value), b = interp.value(nv.value);
    double e = maxNormError(a, b);
    if (results)
      results->push_back(a);
    if (e > c.worst || std::isnan(e)) {
      c.worst = e;
      c.where = nv.name;
    }
  };
  REQUIRE(ng.outputs.size() == g.outputs.size());
  REQUIRE(ng.metrics.size() == g.metrics.size());
  REQUIRE(ng.gradients.size() == g.gradients.size());
  for (size_t i = 0; i < g.outputs.size(); ++i)
    check(ng.outputs[i], g.outputs[i]);
  if (g.loss.value)
    check(ng.loss, g.loss);
  for (size_t i = 0; i < g.metrics.size(); ++i)
    check(ng.metrics[i], g.metrics[i]);
  for (size_t i = 0; i < g.gradients.size(); ++i)
    check(ng.gradients[i], g.gradients[i]);
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
    struct Case {
      std::string kind;
      std::unique_ptr<ir::Graph> plain, native;
    };
    std::vector<Case> cases;
    auto add = [&](const char *kind, api::GraphKind k, bool remat) {
      // Packing threshold 1: every contraction that can be is packed, so
      // that the small test shapes exercise the rewrite too.
      api::BuildOptions plain{true, remat, false}, native{true, remat, true};
      native.packMinFlops = 1;
      cases.push_back({kind, api::buildGraph(*fr.model, k, diags, plain),
                       api::buildGraph(*fr.model, k, diags, native)});
    };
    add("eval", api::GraphKind::Eval, false);
    if (fr.model->loss) {
      add("grad", api::GraphKind::Gradient, false);
      if (hasRecurrence(*cases.back().plain))
        add("remat", api::GraphKind::Gradient, true);
    }
    for (auto &[kind, g, ng] : cases) {
      CAPTURE(file);
      CAPTURE(kind);
      std::vector<runtime::DTensor> two, one;
      Compared c = compareGraph(*g, *ng, 7, &pool, &two);
      CAPTURE(c.where);
      CHECK(c.worst <= 1e-4);
      // One thread computes the same values: loops split by output rows.
      compareGraph(*g, *ng, 7, nullptr, &one);
      REQUIRE(one.size() == two.size());
      for (size_t i = 0; i < one.size(); ++i)
        CHECK(one[i].data == two[i].data);
    }
  }
}
