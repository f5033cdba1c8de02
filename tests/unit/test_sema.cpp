//===- tests/unit/test_sema.cpp - Semantic analysis and lowering ----------===//
//
// Each test compiles a small model from a string, runs it in the reference
// interpreter and compares with values computed by hand here, so the rules
// of LANGUAGE.md (ranges, implicit summation, recurrences, defs) are checked
// by what they compute, not by the shape of the IR.
//
//===----------------------------------------------------------------------===//
#include "frontend/CompileModel.h"
#include "frontend/Lowering.h"
#include "ir/Verifier.h"
#include "runtime/Interpreter.h"

#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <sstream>

using namespace gradc;
using runtime::DTensor;

namespace {

struct Compiled {
  SourceManager sm;
  std::ostringstream errs;
  DiagnosticEngine diags{sm, &errs};
  FrontendResult fr;
  std::unique_ptr<ir::Graph> graph;
};

std::unique_ptr<Compiled> compile(const std::string &src, FrontendOptions opts = {}) {
  auto c = std::make_unique<Compiled>();
  c->fr = runFrontend("test.grad", &src, opts, c->sm, c->diags);
  c->graph = lowerModel(*c->fr.model, false);
  auto problems = ir::verifyGraph(*c->graph);
  REQUIRE_MESSAGE(problems.empty(), (problems.empty() ? std::string() : problems[0]));
  return c;
}

/// The first error message (or "" when the program is accepted).
std::string errorOf(const std::string &src, FrontendOptions opts = {}) {
  SourceManager sm;
  std::ostringstream errs;
  DiagnosticEngine diags(sm, &errs);
  try {
    runFrontend("test.grad", &src, opts, sm, diags);
  } catch (const UserError &) {
    return errs.str();
  }
  return "";
}

DTensor tensor(std::vector<int64_t> shape, std::vector<double> data, bool isInt = false) {
  DTensor t;
  t.type = {isInt ? ir::DType::I32 : ir::DType::F32, std::move(shape)};
  t.data = std::move(data);
  return t;
}

std::map<std::string, DTensor> run(Compiled &c, const std::map<std::string, DTensor> &in) {
  runtime::Interpreter interp(*c.graph);
  interp.initParams(0);
  for (auto &[k, v] : in)
    interp.set(k, v);
  interp.run();
  std::map<std::string, DTensor> out;
  for (auto &o : c.graph->outputs)
    out[o.name] = interp.value(o.value);
  if (c.graph->loss.value)
    out[c.graph->loss.name] = interp.value(c.graph->loss.value);
  return out;
}

void checkClose(const DTensor &t, const std::vector<double> &want) {
  REQUIRE(t.data.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i)
    CHECK(t.data[i] == doctest::Approx(want[i]).epsilon(1e-12));
}

} // namespace

TEST_CASE("sema: a product's repeated index is summed; a summand without it is not") {
  auto c = compile(R"(model m {
    dim B = 2, I = 3, J = 2
    input W[J, I]; input x[B, I]; input cc[J]
    z[b, j] = W[j, i]*x[b, i] + cc[j]
    output z })");
  auto out = run(*c, {{"W", tensor({2, 3}, {1, 2, 3, 4, 5, 6})},
                      {"x", tensor({2, 3}, {1, 0, -1, 2, 1, 0})},
                      {"cc", tensor({2}, {10, 20})}});
  checkClose(out["z"], {1 - 3 + 10, 4 - 6 + 20, 2 + 2 + 10, 8 + 5 + 20});
}

TEST_CASE("sema: summation scopes follow LANGUAGE.md's examples") {
  auto c = compile(R"(model m {
    dim I = 3, J = 2
    input a[I]; input bb[I]; input x[J]
    sq = (a[i] - bb[i])^2
    ratio[j] = x[j]/(a[i]*bb[i])
    two[j] = tanh(a[i]*bb[i] + a[i]*x[j])
    avg = sum(i: a[i]) / count(i)
    output sq, ratio, two, avg })");
  auto out = run(*c, {{"a", tensor({3}, {1, 2, 3})},
                      {"bb", tensor({3}, {0.5, -1, 2})},
                      {"x", tensor({2}, {1, -2})}});
  checkClose(out["sq"], {0.25 + 9 + 1});
  double dot = 0.5 - 2 + 6;
  checkClose(out["ratio"], {1 / dot, -2 / dot});
  checkClose(out["two"], {std::tanh(dot + 6 * 1), std::tanh(dot + 6 * -2)});
  checkClose(out["avg"], {2});
}

TEST_CASE("sema: entropy through softmax and log_softmax leaving v free") {
  auto c = compile(R"(model m {
    dim V = 3
    input z[V]
    H = -softmax(v: z[v])*log_softmax(v: z[v])
    output H })");
  auto out = run(*c, {{"z", tensor({3}, {0.5, 1, -1})}});
  double e[3] = {std::exp(0.5), std::exp(1.0), std::exp(-1.0)}, s = e[0] + e[1] + e[2], h = 0;
  for (double v : e)
    h -= v / s * std::log(v / s);
  checkClose(out["H"], {h});
}

TEST_CASE("sema: for clauses give ranges; other subscripts read zero padding") {
  auto c = compile(R"(model m {
    dim K1 = 2, K2 = 3, X = 5, X2 = 3
    input a[K1]; input d[K2]; input L[X]
    cat[k] = a[k] + d[k - K1] for k in 0..K1+K2
    sub[x] = L[2*x] for x in 0..X2
    conv[x] = L[x + dx - 1] * w[dx]
    w[dx] = 1 for dx in 0..3
    output cat, sub, conv })");
  auto out = run(*c, {{"a", tensor({2}, {1, 2})},
                      {"d", tensor({3}, {3, 4, 5})},
                      {"L", tensor({5}, {1, 2, 3, 4, 5})}});
  checkClose(out["cat"], {1, 2, 3, 4, 5});
  checkClose(out["sub"], {1, 3, 5});
  checkClose(out["conv"], {3, 6, 9, 12, 9});
}

TEST_CASE("sema: a recurrence with a boundary value, forwards and backwards") {
  auto c = compile(R"(model m {
    dim T = 4
    input x[T]; input h0
    h[t] = 0.5*h[t-1] + x[t]
    h[-1] = h0
    g[t] = g[t+1] + x[t]
    out[t] = h[t-1]
    output h, g, out })");
  auto out = run(*c, {{"x", tensor({4}, {1, 2, 3, 4})}, {"h0", tensor({}, {8})}});
  checkClose(out["h"], {5, 4.5, 5.25, 6.625});
  checkClose(out["g"], {10, 9, 7, 4});
  checkClose(out["out"], {8, 5, 4.5, 5.25});
}

TEST_CASE("sema: def calls are named after the statement and numbered") {
  auto c = compile(R"(
    def dense(x[..., I], dim Out) {
      param W[Out, I] = he()
      param c[Out] = zeros()
      return W[o, i]*x[..., i] + c[o] -> [..., o]
    }
    model m {
      dim B = 2, D = 3
      input x[B, D]
      y = dense(dense(x, 4), D)
      output y })");
  std::vector<std::string> names;
  for (auto *op : c->graph->leaves(ir::OpKind::Param))
    names.push_back(op->name);
  CHECK(names == std::vector<std::string>{"y.W", "y.c", "y.2.W", "y.2.c"});
  CHECK(c->graph->outputs[0].value->type.shape == std::vector<int64_t>{2, 3});
}

TEST_CASE("sema: -D overrides a dim and its derived dims follow") {
  FrontendOptions o;
  o.dims["N"] = 10;
  auto c = compile("model m { dim N = 4, H = N/2\n input x[N]\n y[h] = x[2*h] for h in 0..H\n output y }", o);
  CHECK(c->graph->outputs[0].value->type.shape == std::vector<int64_t>{5});
  FrontendOptions bad;
  bad.dims["H"] = 3;
  CHECK_THROWS_AS(errorOf("model m { dim N = 4, H = N/2\n input x[N]\n output x }", bad),
                  sema::UsageError);
}

TEST_CASE("sema: errors name their place") {
  CHECK(errorOf("model m { dim N = 3\n input x[N]\n y[i, j] = x[i]\n output y }")
            .find("test.grad:3:7: error: index 'j' has no range") != std::string::npos);
  CHECK(errorOf("model m { dim N = 3\n input x[N]\n loss = x\n minimize loss }")
            .find("minimize needs an f32 scalar") != std::string::npos);
  CHECK(errorOf("model m { dim N = 3\n input x[N] : int\n y[i] = x[i] * 2\n output y }")
            .find("int where f32 is needed") != std::string::npos);
  CHECK(errorOf("model m { dim N = 3\n input x[N]\n a[t] = b[t]\n b[t] = a[t] + x[t]\n output a }")
            .find("cycle") != std::string::npos);
  CHECK(errorOf("model m { dim N = 3\n input x[N]\n h[t] = h[t-1] + h[t+1] + x[t]\n output h }")
            .find("both earlier and later") != std::string::npos);
  std::string inDef = errorOf("def f(x[N]) {\n return x[i] + q[i] -> [i]\n}\n"
                              "model m { dim N = 3\n input x[N]\n y = f(x)\n output y }");
  CHECK(inDef.find("test.grad:2:16: error: unknown tensor 'q'") != std::string::npos);
  CHECK(inDef.find("test.grad:6:6: note: in this call of 'f'") != std::string::npos);
  CHECK(errorOf("def f(x) = f(x)\nmodel m { dim N = 3\n input x[N]\n y = f(x)\n output y }")
            .find("recursion") != std::string::npos);
}
