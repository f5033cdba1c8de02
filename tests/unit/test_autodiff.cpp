//===- tests/unit/test_autodiff.cpp - Stabilization and gradients ----------===//
//
// Gradients of small models at points where naive formulas fail: the
// stable forms of log σ and log softmax, where() with an infinite branch,
// and the kinks whose derivative the language fixes (relu and abs at 0,
// max ties to the first argument).
//
//===----------------------------------------------------------------------===//
#include "frontend/CompileModel.h"
#include "frontend/Lowering.h"
#include "ir/Verifier.h"
#include "passes/Autodiff.h"
#include "passes/DeadCode.h"
#include "passes/Stabilize.h"
#include "runtime/Interpreter.h"

#include <doctest/doctest.h>

#include <cmath>
#include <sstream>

using namespace gradc;
using runtime::DTensor;

namespace {

struct Run {
  SourceManager sm;
  std::ostringstream errs;
  DiagnosticEngine diags{sm, &errs};
  FrontendResult fr;
  std::unique_ptr<ir::Graph> g;
  std::unique_ptr<runtime::Interpreter> in;

  Run(const std::string &src, const std::vector<std::pair<std::string, DTensor>> &inputs) {
    fr = runFrontend("t.grad", &src, {}, sm, diags);
    g = lowerModel(*fr.model, true);
    passes::stabilize(*g);
    passes::differentiate(*g);
    passes::eliminateDeadCode(*g);
    auto problems = ir::verifyGraph(*g);
    REQUIRE_MESSAGE(problems.empty(), (problems.empty() ? std::string() : problems[0]));
    in = std::make_unique<runtime::Interpreter>(*g);
    in->initParams(0);
    for (auto &[k, v] : inputs)
      in->set(k, v);
    in->run();
  }
  std::vector<double> grad(const std::string &name) {
    for (auto &gr : g->gradients)
      if (gr.name == "grad." + name)
        return in->value(gr.value).data;
    FAIL("no gradient " << name);
    return {};
  }
  double loss() { return in->value(g->loss.value).data[0]; }
};

DTensor vec(std::vector<double> v) {
  DTensor t;
  t.type = ir::TensorType::f32({static_cast<int64_t>(v.size())});
  t.data = std::move(v);
  return t;
}

} // namespace

TEST_CASE("autodiff: log(sigmoid) and log(1 - sigmoid) stay finite far out") {
  Run r("model m { dim N = 3\n input z[N]\n"
        " loss = -sum(i: log(sigmoid(z[i])) + log(1 - sigmoid(z[i])))\n minimize loss }",
        {{"z", vec({-200, 0, 200})}});
  CHECK(std::isfinite(r.loss()));
  CHECK(r.loss() == doctest::Approx(400 + std::log(4.0)).epsilon(1e-9));
  auto g = r.grad("z"); // d/dz [-log σ(z) - log(1 - σ(z))] = 2σ(z) - 1
  CHECK(g[0] == doctest::Approx(-1));
  CHECK(g[1] == doctest::Approx(0));
  CHECK(g[2] == doctest::Approx(1));
}

TEST_CASE("autodiff: log(softmax) becomes log_softmax") {
  Run r("model m { dim N = 3\n input z[N]\n p[v] = log(softmax(v: z[v]))\n"
        " loss = -p[0]\n minimize loss }",
        {{"z", vec({0, 1000, -1000})}});
  CHECK(r.loss() == doctest::Approx(1000));
  auto g = r.grad("z"); // softmax(z) - onehot(0)
  CHECK(g[0] == doctest::Approx(-1));
  CHECK(g[1] == doctest::Approx(1));
  CHECK(g[2] == doctest::Approx(0));
}

TEST_CASE("autodiff: where() does not leak an infinite branch; kinks follow the language") {
  Run r("model m { dim N = 4\n input x[N]\n"
        " loss = sum(i: where(x[i] > 0, log(x[i]), 0) + relu(x[i]) + abs(x[i]) "
        "+ max(x[i], 0))\n minimize loss }",
        {{"x", vec({0, -1, 2, 0.5})}});
  auto g = r.grad("x");
  // x = 0: log branch untaken (no NaN), relu' = abs' = 0, max tie -> first: 1
  CHECK(g[0] == doctest::Approx(1));
  CHECK(g[1] == doctest::Approx(-1)); // abs' = -1, the rest 0
  CHECK(g[2] == doctest::Approx(0.5 + 1 + 1 + 1));
  CHECK(g[3] == doctest::Approx(2 + 1 + 1 + 1));
}

TEST_CASE("autodiff: the gradient of max goes to the first maximal element") {
  Run r("model m { dim N = 4\n input x[N]\n loss = max(i: x[i])\n minimize loss }",
        {{"x", vec({1, 3, 3, 2})}});
  auto g = r.grad("x");
  CHECK(g == std::vector<double>{0, 1, 0, 0});
}
