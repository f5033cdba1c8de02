//===- tools/CmdGradcheck.cpp - gradc gradcheck ----------------------------===//
//
// Compares the backward graph's gradients, evaluated by the reference
// interpreter in double precision, with central finite differences of the
// loss on sampled elements of every parameter and f32 input. Inputs and
// parameters not given are drawn from the seed (an int input within the
// range of the axes it indexes); noise is drawn once and held fixed.
//
//===----------------------------------------------------------------------===//
#include "api/InputFill.h"
#include "api/Pipeline.h"
#include "runtime/Interpreter.h"
#include "runtime/NpyIO.h"
#include "runtime/Random.h"
#include "tools/Commands.h"
#include "tools/LeafArrays.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>

namespace gradc::tool {

namespace {

using runtime::DTensor;

struct GradcheckOptions {
  CommonOptions common;
  DataOptions data;
  int samples = 20;
  double tol = 1e-5;
};

double relErr(double a, double n) {
  return std::fabs(a - n) / std::max({std::fabs(a), std::fabs(n), 1e-6});
}

int checkGradients(const GradcheckOptions &o, DiagnosticEngine &diags, FrontendResult &fr);

int runGradcheck(const GradcheckOptions &o) {
  SourceManager sm;
  DiagnosticEngine diags(sm, &std::cerr);
  FrontendResult fr = runFrontend(o.common.file, nullptr, o.common.frontend(), sm, diags);
  try {
    return checkGradients(o, diags, fr);
  } catch (const runtime::RuntimeFault &f) { // data: an index out of range
    diags.error(f.loc, f.what());
    return kUserError;
  }
}

int checkGradients(const GradcheckOptions &o, DiagnosticEngine &diags, FrontendResult &fr) {
  std::unique_ptr<ir::Graph> grad = api::buildGraph(*fr.model, api::GraphKind::Gradient, diags, {true, o.common.remat});
  std::unique_ptr<ir::Graph> fwd = api::buildGraph(*fr.model, api::GraphKind::Train, diags);

  runtime::Interpreter ig(*grad), iff(*fwd);
  ig.initParams(o.data.seed);
  ig.setNoiseSeed(o.data.seed);
  loadUserArrays(ig, *grad, o.data.params, o.data.inputsNpz, o.data.ins);
  api::fillMissingInputs(ig, o.data.seed);
  ig.run();
  // Hold every leaf fixed for the finite differences: the same params,
  // inputs and this run's noise.
  for (auto &op : grad->top.ops)
    if (opClassOf(op->kind) == ir::OpClass::Leaf && op->kind != ir::OpKind::Constant &&
        op->kind != ir::OpKind::Iota) {
      DTensor v = op->kind == ir::OpKind::Noise ? ig.value(op->result()) : ig.leafValue(op->name);
      if (op->kind == ir::OpKind::Noise)
        ig.set(op->name, v);
      iff.set(op->name, v);
    }
  auto lossAt = [&]() {
    iff.run();
    return iff.value(fwd->loss.value).data[0];
  };

  bool failed = false;
  runtime::Random pick(o.data.seed, runtime::kInputStream + 1);
  std::printf("%-24s %14s %8s\n", "tensor", "max rel err", "checked");
  for (auto &gr : grad->gradients) {
    std::string name = gr.name.substr(5);
    const DTensor &analytic = ig.value(gr.value);
    DTensor x = iff.leafValue(name);
    int64_t n = static_cast<int64_t>(x.data.size());
    std::vector<int64_t> idx(n);
    for (int64_t i = 0; i < n; ++i)
      idx[i] = i;
    // A seeded sample without replacement (a partial Fisher-Yates shuffle).
    int64_t k = std::min<int64_t>(o.samples, n);
    for (int64_t i = 0; i < k; ++i)
      std::swap(idx[i], idx[i + static_cast<int64_t>(pick.uniform() * (n - i))]);
    double worst = 0;
    for (int64_t s = 0; s < k; ++s) {
      int64_t i = idx[s];
      // The five-point central difference: error O(h^4) from truncation
      // and O(eps / h) from rounding, both far below the tolerance.
      double x0 = x.data[i], h = 1e-4 * std::max(1.0, std::fabs(x0));
      auto at = [&](double v) {
        x.data[i] = v;
        iff.set(name, x);
        return lossAt();
      };
      double d1 = at(x0 + h) - at(x0 - h), d2 = at(x0 + 2 * h) - at(x0 - 2 * h);
      at(x0);
      double e = relErr(analytic.data[i], (8 * d1 - d2) / (12 * h));
      worst = std::isnan(e) || std::isnan(worst) ? NAN : std::max(worst, e);
    }
    bool bad = worst > o.tol || std::isnan(worst);
    failed = failed || bad;
    std::printf("%-24s %14.3e %8lld%s\n", name.c_str(), worst, static_cast<long long>(k),
                bad ? "  FAIL" : "");
  }
  return failed ? kCheckFailed : kOk;
}

} // namespace

Command addGradcheck(CLI::App &app) {
  auto o = std::make_shared<GradcheckOptions>();
  CLI::App *cmd = app.add_subcommand(
      "gradcheck", "compare the gradients with central finite differences (double precision)");
  o->common.add(*cmd);
  o->data.add(*cmd);
  cmd->add_option("--samples", o->samples, "elements checked per tensor (default 20)")
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--tol", o->tol, "largest relative error accepted (default 1e-5)")
      ->check(CLI::PositiveNumber);
  return {cmd, [o] { return runGradcheck(*o); }};
}

} // namespace gradc::tool
