//===- tests/unit/test_grad_equations.cpp - grad-eqs shows what is computed -===//
//
// The equations `gradc compile --emit=grad-eqs` prints are checked by running
// them (tests/unit/EquationEval.h). Forward tensors come from the model's
// own equations, evaluated from the resolved model (an oracle that never
// looks at the IR); each displayed line runs as it reads (= sets, += adds,
// an index only on the right side is summed, a loop runs its steps in
// order); the parameters' gradients this gives must equal the reference
// interpreter's run of the backward graph. So a line that shows the wrong
// index, offset, sum or operand, or a missing line, fails here. The
// printer's precedence and implicit-summation rules are tested on their own
// first.
//
//===----------------------------------------------------------------------===//
#include "EquationEval.h"
#include "frontend/CompileModel.h"
#include "frontend/Lowering.h"
#include "notation/GradEquations.h"
#include "passes/Autodiff.h"
#include "passes/DeadCode.h"
#include "passes/Stabilize.h"
#include "runtime/Interpreter.h"

#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

using namespace gradc;
using namespace gradc::notation;
using ir::OpKind;

TEST_CASE("grad-eqs printing: precedence and implicit sums") {
  std::vector<std::string> names{"b", "j", "i"};
  auto x = [](std::vector<DIndex> s) { return read("x", std::move(s)); };
  DExprPtr xb = x({DIndex::var(0)});
  // a - (b + c) keeps its parentheses; a + -b*c reads a - b*c.
  CHECK(printExpr(binary(OpKind::Sub, xb, binary(OpKind::Add, xb, number(1))), names) ==
        "x[b] - (x[b] + 1)");
  CHECK(printExpr(binary(OpKind::Add, xb, binary(OpKind::Mul, neg(xb), xb)), names) ==
        "x[b] - x[b]*x[b]");
  // A comparison inside a product, a power of a call, a negative exponent.
  CHECK(printExpr(binary(OpKind::Mul, xb, binary(OpKind::Gt, xb, number(0))), names) ==
        "x[b]*(x[b] > 0)");
  CHECK(printExpr(power(call("tanh", {xb}), 2), names) == "tanh(x[b])^2");
  CHECK(printExpr(power(xb, -1), names) == "x[b]^(-1)");
  CHECK(printExpr(binary(OpKind::Div, xb, binary(OpKind::Mul, xb, xb)), names) ==
        "x[b]/(x[b]*x[b])");
  // Subscripts: shifts, strides, gathers.
  DIndex shifted = DIndex::var(1).scaled(2).plus(DIndex::var(2)).plus(DIndex::of(-1));
  DIndex gathered = DIndex::of(1);
  gathered.reads.push_back({read("tok", {DIndex::var(0)}), 1});
  CHECK(printExpr(read("L", {shifted, gathered}), names) == "L[2*j+i-1,tok[b]+1]");
  // A sum over a product prints without its binder; a sum under a power or
  // a sum one of whose terms lacks the index keeps it.
  DExprPtr prod =
      binary(OpKind::Mul, x({DIndex::var(0), DIndex::var(1)}), read("w", {DIndex::var(1)}));
  CHECK(printExpr(markImplicitSums(binder("sum", {1}, prod)), names) == "x[b,j]*w[j]");
  CHECK(printExpr(markImplicitSums(power(binder("sum", {1}, prod), 2)), names) ==
        "sum(j: x[b,j]*w[j])^2");
  CHECK(printExpr(markImplicitSums(binder("sum", {1}, binary(OpKind::Add, prod, xb))), names) ==
        "sum(j: x[b,j]*w[j] + x[b])");
  CHECK(formatNumber(1e-5) == "1e-5");
  CHECK(formatNumber(1.0 / 24) == "0.0416667");
}

namespace {

using testutil::Display;
using testutil::Forward;
using testutil::Pos;

/// Where each int input is used as an index, the range it may take.
std::map<int, int64_t> intRanges(const sema::Model &m) {
  std::map<int, int64_t> range;
  for (auto &eq : m.equations) {
    if (!eq.rhs)
      continue;
    sema::forEachRead(*eq.rhs, [&](const sema::RExpr &r) {
      for (size_t a = 0; a < r.subs.size(); ++a) {
        const sema::RExpr *ind = r.subs[a].indirect;
        if (!ind || ind->kind != sema::RKind::Read)
          continue;
        int64_t n = m.tensors[r.tensor].shape[a] - r.subs[a].constant;
        auto it = range.find(ind->tensor);
        range[ind->tensor] = it == range.end() ? n : std::min(it->second, n);
      }
    });
  }
  return range;
}

/// Evaluates the displayed equations of `src` and compares the parameters'
/// gradients with the interpreter's; returns the number of values compared.
int64_t checkModel(const std::string &path, const std::string &src) {
  INFO("model: " << path);
  SourceManager sm;
  std::ostringstream errs;
  DiagnosticEngine diags(sm, &errs);
  FrontendResult fr = runFrontend(path, &src, {}, sm, diags);
  std::unique_ptr<ir::Graph> g = lowerModel(*fr.model, true);
  if (passes::stabilize(*g) > 0)
    passes::eliminateDeadCode(*g);
  passes::AutodiffOptions opts;
  opts.inputs = false;
  passes::differentiate(*g, opts);
  passes::eliminateDeadCode(*g);

  runtime::Interpreter in(*g);
  in.initParams(7);
  uint64_t state = 12345;
  auto next = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<double>(state >> 11) / static_cast<double>(1ull << 53);
  };
  std::map<int, int64_t> ranges = intRanges(*fr.model);
  for (size_t t = 0; t < fr.model->tensors.size(); ++t) {
    const sema::Tensor &T = fr.model->tensors[t];
    if (T.role != sema::Role::Input && T.role != sema::Role::Noise)
      continue;
    runtime::DTensor d =
        runtime::DTensor::zeros({T.isInt ? ir::DType::I32 : ir::DType::F32, T.shape});
    int64_t n = ranges.count(static_cast<int>(t)) ? ranges[static_cast<int>(t)] : 2;
    for (double &x : d.data)
      x = T.isInt ? std::floor(next() * static_cast<double>(n)) : 2 * next() - 1;
    in.set(T.name, d);
  }
  in.run();

  Forward fwd(*fr.model, in);
  Display display(fwd);
  std::vector<int64_t> steps;
  display.run(gradEquations(*g, *fr.model, sm), steps);
  for (auto &p : display.problems)
    FAIL_CHECK(p);
  int64_t compared = 0;
  for (auto &gr : g->gradients) {
    const runtime::DTensor &want = in.value(gr.value);
    auto &got = display.grads[gr.name];
    std::vector<int64_t> st = want.strides();
    for (int64_t k = 0; k < static_cast<int64_t>(want.data.size()); ++k) {
      Pos p;
      for (size_t a = 0; a < st.size(); ++a)
        p.push_back(k / st[a] % want.type.shape[a]);
      double a = want.data[k], b = got.count(p) ? got[p] : 0.0;
      if (std::fabs(a - b) > 1e-8 * std::max({1.0, std::fabs(a), std::fabs(b)})) {
        FAIL_CHECK(gr.name << " at element " << k << ": backward IR " << a << ", equations " << b);
        break;
      }
      ++compared;
    }
  }
  return compared;
}

} // namespace

TEST_CASE("grad-eqs: the equations compute the backward pass (small models)") {
  const char *conv = R"(
model conv {
  dim B = 2, X = 5, C = 2, J = 3
  input img[B, X, X, C]
  param K1[J, 3, 3, C] = he()
  param K2[J, 3, 3, J] = he()
  L[b, x, y, j] = relu(K1[j, dx, dy, i]*img[b, x+dx-1, y+dy-1, i])
  S[b, x, y, k] = K2[k, dx, dy, j]*L[b, 2*x+dx-1, 2*y+dy-1, j] for x in 0..2, y in 0..2
  loss = mean(b, x, y, k: S[b, x, y, k]^2)
  minimize loss
})";
  const char *embedding = R"(
model emb {
  dim B = 2, T = 3, V = 5, D = 3
  input tok[B, T] : int
  input next[B, T] : int
  param E[V, D] = normal(1)
  param W[V, D] = normal(1)
  e[b, t, d] = E[tok[b, t], d]
  z[b, t, v] = W[v, d]*e[b, t, d]
  loss = mean(b, t: logsumexp(v: z[b, t, v]) - z[b, t, next[b, t]])
  minimize loss
})";
  const char *layers = R"(
model layers {
  dim L = 3, N = 2, J = 3
  input x[N, J]
  param h0[J] = normal(1)
  param W[L, J, J] = lecun()
  h[-1, b, j] = x[b, j] + h0[j]
  h[l, b, j] = h[l-1, b, j] + tanh(W[l, j, i]*h[l-1, b, i])
  loss = sum(l, b, j: h[l, b, j]^2)
  minimize loss
})";
  // A stacked RNN: a recurrence along t nested in one along l, boundary
  // values on both axes, one of them a parameter.
  const char *stacked = R"(
model stacked {
  dim L = 2, B = 2, T = 3, J = 3
  input x[B, T, J]
  param Wx[L, J, J] = he()
  param Wh[L, J, J] = he()
  param h0[J] = normal(1)
  h[l, b, t, j] = tanh(Wx[l, j, i]*h[l-1, b, t, i] + Wh[l, j, k]*h[l, b, t-1, k])
  h[-1, b, t, j] = x[b, t, j]
  h[l, b, -1, j] = h0[j]
  top[b, t, j] = h[L-1, b, t, j]
  loss = sum(b, t, j: top[b, t, j]^2)
  minimize loss
})";
  // A recurrence running backwards (reads t+1), its boundary after the end.
  const char *backwards = R"(
model brnn {
  dim B = 2, T = 4, J = 3
  input x[B, T, J]
  param W[J, J] = he()
  param gT[J] = normal(1)
  g[b, t, j] = tanh(W[j, i]*g[b, t+1, i] + x[b, t, j])
  g[b, 4, j] = gT[j]
  loss = sum(b, t, j: g[b, t, j]^2)
  minimize loss
})";
  CHECK(checkModel("conv.grad", conv) > 0);
  CHECK(checkModel("emb.grad", embedding) > 0);
  CHECK(checkModel("layers.grad", layers) > 0);
  CHECK(checkModel("stacked.grad", stacked) > 0);
  CHECK(checkModel("brnn.grad", backwards) > 0);
}

#ifdef GRADC_MODELS_DIR
TEST_CASE("grad-eqs: the equations compute the backward pass (models/)") {
  int models = 0;
  for (auto &entry : std::filesystem::directory_iterator(GRADC_MODELS_DIR)) {
    if (entry.path().extension() != ".grad")
      continue;
    std::ifstream f(entry.path());
    std::stringstream ss;
    ss << f.rdbuf();
    CHECK(checkModel(entry.path().filename().string(), ss.str()) > 0);
    ++models;
  }
  CHECK(models > 0);
}
#endif
