//===- tests/unit/test_interpreter.cpp - The reference interpreter --------===//
//
// Each op kind on a graph built with ir::Builder, checked against values
// computed by hand or by a direct loop.
//
//===----------------------------------------------------------------------===//
#include "InterpreterTestUtil.h"
#include "support/Assert.h"

#include <cmath>

using namespace gradc;
using namespace gradc::runtime;
using namespace gradc::testutil;
using ir::OpKind;

TEST_CASE("elementwise ops") {
  ir::Graph g;
  ir::Builder b(g);
  ir::Value *x = input(b, "x", {6});
  ir::Value *s = input(b, "s", {});
  std::vector<double> xs = {-2.0, -0.5, 0.0, 0.25, 1.5, 3.0};
  auto unary = [&](OpKind k) { return b.unary(k, x); };
  struct Case {
    ir::Value *v;
    double (*f)(double);
  };
  std::vector<Case> cases = {
      {unary(OpKind::Neg), [](double v) { return -v; }},
      {unary(OpKind::Exp), [](double v) { return std::exp(v); }},
      {unary(OpKind::Abs), [](double v) { return std::fabs(v); }},
      {unary(OpKind::Tanh), [](double v) { return std::tanh(v); }},
      {unary(OpKind::Sigmoid), [](double v) { return 1 / (1 + std::exp(-v)); }},
      {unary(OpKind::Relu), [](double v) { return v > 0 ? v : 0.0; }},
      {unary(OpKind::Softplus), [](double v) { return std::log(1 + std::exp(v)); }},
      {unary(OpKind::Sin), [](double v) { return std::sin(v); }},
      {unary(OpKind::Cos), [](double v) { return std::cos(v); }},
      {unary(OpKind::StopGrad), [](double v) { return v; }},
      {b.powc(x, 3), [](double v) { return v * v * v; }},
      {b.powc(x, 2), [](double v) { return v * v; }},
      {b.binary(OpKind::Add, x, x), [](double v) { return 2 * v; }},
  };
  ir::Value *logAbs = b.unary(OpKind::Log, b.unary(OpKind::Abs, x));
  ir::Value *sqrtExp = b.unary(OpKind::Sqrt, b.unary(OpKind::Exp, x));
  ir::Value *rsqrtExp = b.unary(OpKind::Rsqrt, b.unary(OpKind::Exp, x));
  ir::Value *powNeg = b.powc(x, -2);
  ir::Value *sub = b.binary(OpKind::Sub, x, s);
  ir::Value *div = b.binary(OpKind::Div, s, x);
  ir::Value *mx = b.binary(OpKind::Max, x, s);
  ir::Value *mn = b.binary(OpKind::Min, s, x);
  ir::Value *leaky = b.binary(OpKind::LeakyRelu, x, b.constant(0.1));
  ir::Value *mul = b.binary(OpKind::Mul, x, s);

  Interpreter in(g);
  in.set("x", f32({6}, xs));
  in.set("s", f32({}, {0.25}));
  in.run();
  for (const Case &c : cases) {
    INFO(c.v->def->mnemonic());
    std::vector<double> want;
    for (double v : xs)
      want.push_back(c.f(v));
    checkClose(in.value(c.v), want);
  }
  std::vector<double> wLog, wSqrt, wRsqrt, wPow, wSub, wDiv, wMax, wMin, wLeaky, wMul;
  for (double v : xs) {
    wLog.push_back(std::log(std::fabs(v)));
    wSqrt.push_back(std::exp(v / 2));
    wRsqrt.push_back(std::exp(-v / 2));
    wPow.push_back(1 / (v * v));
    wSub.push_back(v - 0.25);
    wDiv.push_back(0.25 / v);
    wMax.push_back(std::max(v, 0.25));
    wMin.push_back(std::min(v, 0.25));
    wLeaky.push_back(v > 0 ? v : 0.1 * v);
    wMul.push_back(v * 0.25);
  }
  CHECK(std::isinf(in.value(logAbs).data[2]));
  wLog[2] = in.value(logAbs).data[2];
  checkClose(in.value(logAbs), wLog);
  checkClose(in.value(sqrtExp), wSqrt);
  checkClose(in.value(rsqrtExp), wRsqrt);
  CHECK(std::isinf(in.value(powNeg).data[2]));
  wPow[2] = in.value(powNeg).data[2];
  checkClose(in.value(powNeg), wPow);
  checkClose(in.value(sub), wSub);
  CHECK(std::isinf(in.value(div).data[2]));
  wDiv[2] = in.value(div).data[2];
  checkClose(in.value(div), wDiv);
  checkClose(in.value(mx), wMax);
  checkClose(in.value(mn), wMin);
  checkClose(in.value(leaky), wLeaky);
  checkClose(in.value(mul), wMul);
  // x^3 of a negative x keeps its sign; powc is exact for integer exponents.
  CHECK(in.value(cases[10].v).data[0] == -8.0);
}

TEST_CASE("elementwise ops stay finite at extreme inputs") {
  ir::Graph g;
  ir::Builder b(g);
  ir::Value *x = input(b, "x", {2});
  ir::Value *sig = b.unary(OpKind::Sigmoid, x);
  ir::Value *sp = b.unary(OpKind::Softplus, x);
  Interpreter in(g);
  in.set("x", f32({2}, {-1000, 1000}));
  in.run();
  checkClose(in.value(sig), {0.0, 1.0});
  checkClose(in.value(sp), {0.0, 1000.0});
}

TEST_CASE("comparisons, where, constants and iota") {
  ir::Graph g;
  ir::Builder b(g);
  ir::Value *x = input(b, "x", {4});
  ir::Value *k = b.leaf(OpKind::Input, "k", TensorType::i32({4}));
  ir::Value *pos = b.iota({4}, 0);
  ir::Value *lt = b.binary(OpKind::Lt, x, b.constant(0));
  ir::Value *le = b.binary(OpKind::Le, x, b.constant(0));
  ir::Value *gt = b.binary(OpKind::Gt, x, b.constant(0));
  ir::Value *ge = b.binary(OpKind::Ge, x, b.constant(0));
  ir::Value *eq = b.binary(OpKind::Eq, k, pos); // i32 operands: a one-hot
  ir::Value *ne = b.binary(OpKind::Ne, k, pos);
  ir::Value *sel = b.where(eq, x, b.constant(-1));
  ir::Value *grid = b.iota({2, 3}, 1);
  ir::Value *splat = b.constant(1.5, {2});
  Interpreter in(g);
  in.set("x", f32({4}, {-1, 0, 2, -3}));
  in.set("k", i32({4}, {0, 2, 2, 1}));
  in.run();
  checkClose(in.value(lt), {1, 0, 0, 1});
  checkClose(in.value(le), {1, 1, 0, 1});
  checkClose(in.value(gt), {0, 0, 1, 0});
  checkClose(in.value(ge), {0, 1, 1, 0});
  checkClose(in.value(eq), {1, 0, 1, 0});
  checkClose(in.value(ne), {0, 1, 0, 1});
  checkClose(in.value(sel), {-1, -1, 2, -1});
  checkClose(in.value(grid), {0, 1, 2, 0, 1, 2});
  CHECK(in.value(grid).type == TensorType::i32({2, 3}));
  checkClose(in.value(splat), {1.5, 1.5});
}

TEST_CASE("contract: a matmul equals the direct loop") {
  const int64_t B = 3, K = 4, J = 5;
  ir::Graph g;
  ir::Builder b(g);
  ir::Value *x = input(b, "x", {B, K});
  ir::Value *w = input(b, "W", {K, J});
  // z[b, j] = sum_k x[b, k] * W[k, j]; loops d0 = b, d1 = j, d2 = k.
  ir::Value *z = b.contract(
      {x, w}, {mapOf({loopVar(0), loopVar(2)}), mapOf({loopVar(2), loopVar(1)})}, {B, J}, {K});
  g.outputs.push_back({"z", z, {}});
  Interpreter in(g);
  DTensor xv = randomF32({B, K}, 1), wv = randomF32({K, J}, 2);
  in.set("x", xv);
  in.set("W", wv);
  in.run();
  std::vector<double> want(B * J, 0.0);
  for (int64_t i = 0; i < B; ++i)
    for (int64_t j = 0; j < J; ++j)
      for (int64_t k = 0; k < K; ++k)
        want[i * J + j] += xv.data[i * K + k] * wv.data[k * J + j];
  checkClose(in.output("z"), want);
}

TEST_CASE("contract: a padded strided 1-D convolution") {
  // y[o, c] = sum_{r, i} x[2*o + r - 1, i] * F[r, i, c]: kernel 3, padding 1,
  // stride 2; loops d0 = o, d1 = c, d2 = r, d3 = i.
  const int64_t N = 7, I = 2, C = 3, R = 3, O = 4;
  ir::Graph g;
  ir::Builder b(g);
  ir::Value *x = input(b, "x", {N, I});
  ir::Value *f = input(b, "F", {R, I, C});
  ir::Value *y = b.contract({x, f},
                            {mapOf({Affine::var(0, 2).plus(loopVar(2, -1)), loopVar(3)}),
                             mapOf({loopVar(2), loopVar(3), loopVar(1)})},
                            {O, C}, {R, I});
  Interpreter in(g);
  DTensor xv = randomF32({N, I}, 3), fv = randomF32({R, I, C}, 4);
  in.set("x", xv);
  in.set("F", fv);
  in.run();
  std::vector<double> want(O * C, 0.0);
  for (int64_t o = 0; o < O; ++o)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t r = 0; r < R; ++r)
        for (int64_t i = 0; i < I; ++i) {
          int64_t p = 2 * o + r - 1;
          if (p >= 0 && p < N) // zero padding
            want[o * C + c] += xv.data[p * I + i] * fv.data[(r * I + i) * C + c];
        }
  checkClose(in.value(y), want);
}

TEST_CASE("contract: outer product, flipped kernel, three factors") {
  const int64_t N = 6, R = 3;
  ir::Graph g;
  ir::Builder b(g);
  ir::Value *a = input(b, "a", {N});
  ir::Value *f = input(b, "f", {R});
  ir::Value *c = input(b, "c", {N});
  // outer[i, j] = a[i] * c[j]: no reduction, the innermost loop is j.
  ir::Value *outer = b.contract({a, c}, {mapOf({loopVar(0)}), mapOf({loopVar(1)})}, {N, N}, {});
  // y[o] = sum_r a[o - r + 1] * f[r]: the read runs backwards along r.
  ir::Value *y = b.contract(
      {a, f}, {mapOf({loopVar(0, 1).plus(Affine::var(1, -1))}), mapOf({loopVar(1)})}, {N}, {R});
  // dot3 = sum_i a[i] * c[i] * a[i], a scalar.
  ir::Value *dot3 = b.contract(
      {a, c, a}, {mapOf({loopVar(0)}), mapOf({loopVar(0)}), mapOf({loopVar(0)})}, {}, {N});
  // A contract of scalars: a product.
  ir::Value *s = b.contract({dot3, dot3}, {{}, {}}, {}, {});
  Interpreter in(g);
  DTensor av = randomF32({N}, 20), fv = randomF32({R}, 21), cv = randomF32({N}, 22);
  in.set("a", av);
  in.set("f", fv);
  in.set("c", cv);
  in.run();
  std::vector<double> wOuter, wY(N, 0.0);
  double wDot = 0;
  for (int64_t i = 0; i < N; ++i) {
    for (int64_t j = 0; j < N; ++j)
      wOuter.push_back(av.data[i] * cv.data[j]);
    for (int64_t r = 0; r < R; ++r)
      if (i - r + 1 >= 0 && i - r + 1 < N)
        wY[i] += av.data[i - r + 1] * fv.data[r];
    wDot += av.data[i] * cv.data[i] * av.data[i];
  }
  checkClose(in.value(outer), wOuter);
  checkClose(in.value(y), wY);
  checkClose(in.value(dot3), {wDot});
  checkClose(in.value(s), {wDot * wDot});
}

TEST_CASE("remap: transpose, broadcast and zero padding") {
  ir::Graph g;
  ir::Builder b(g);
  ir::Value *a = input(b, "a", {2, 3});
  ir::Value *v = input(b, "v", {3});
  ir::Value *at = b.remap(a, mapOf({loopVar(1), loopVar(0)}), {3, 2});
  ir::Value *bc = b.remap(v, mapOf({loopVar(1)}), {2, 3});
  // c[k] = v[k - 2] for k in 0..5: shifted, zero where v has no element.
  ir::Value *shift = b.remap(v, mapOf({loopVar(0, -2)}), {5});
  Interpreter in(g);
  in.set("a", f32({2, 3}, {1, 2, 3, 4, 5, 6}));
  in.set("v", f32({3}, {7, 8, 9}));
  in.run();
  checkClose(in.value(at), {1, 4, 2, 5, 3, 6});
  checkClose(in.value(bc), {7, 8, 9, 7, 8, 9});
  checkClose(in.value(shift), {0, 0, 7, 8, 9});
}

TEST_CASE("remap: embedding lookup through an indirect index") {
  const int64_t V = 5, D = 2, B = 2, T = 3;
  ir::Graph g;
  ir::Builder b(g);
  ir::Value *e = b.leaf(OpKind::Param, "E", TensorType::f32({V, D}), {ir::InitSpec::Normal, 1});
  ir::Value *tok = b.leaf(OpKind::Input, "tok", TensorType::i32({B, T}));
  ir::Value *ids = b.leaf(OpKind::Input, "ids", TensorType::i32({B, T}));
  b.setLoc(SourceLoc{1, 7, 3});
  // E[index[b, t] + shift, d], index read at (d0, tAt).
  auto lookup = [&](ir::Value *index, int64_t shift, Affine tAt) {
    IndexMap m(2);
    m[0].pos = Affine::constantOf(shift);
    m[0].indirect = 1;
    m[0].indirectAt = {loopVar(0), tAt};
    m[1].pos = loopVar(2);
    return b.remap(e, m, {B, T, D}, {index});
  };
  ir::Value *out = lookup(tok, 0, loopVar(1));
  // tok[b, t - 1] reads tok out of bounds at t = 0; that read gives index 0.
  ir::Value *prev = lookup(tok, 0, loopVar(1, -1));
  ir::Value *next = lookup(ids, 1, loopVar(1)); // E[ids[b, t] + 1, d]
  Interpreter in(g);
  std::vector<double> ev = {0, 1, 10, 11, 20, 21, 30, 31, 40, 41};
  in.set("E", f32({V, D}, ev));
  in.set("tok", i32({B, T}, {4, 0, 2, 1, 1, 3}));
  in.set("ids", i32({B, T}, {0, 3, 0, 0, 1, 2}));
  in.run();
  checkClose(in.value(out), {40, 41, 0, 1, 20, 21, 10, 11, 10, 11, 30, 31});
  checkClose(in.value(prev), {0, 1, 40, 41, 0, 1, 0, 1, 10, 11, 10, 11});
  checkClose(in.value(next), {10, 11, 40, 41, 10, 11, 10, 11, 20, 21, 30, 31});

  in.set("tok", i32({B, T}, {4, 0, 2, 1, 7, 3}));
  try {
    in.run();
    FAIL("expected a run-time fault");
  } catch (const RuntimeFault &f) {
    CHECK(std::string(f.what()) == "index 7 out of range [0, 5) reading 'E'");
    CHECK(f.loc == SourceLoc{1, 7, 3});
  }
  in.set("tok", i32({B, T}, {4, 0, 2, 1, -1, 3}));
  CHECK_THROWS_WITH_AS(in.run(), "index -1 out of range [0, 5) reading 'E'", RuntimeFault);
  // With the shift of 1, id 4 reads row 5.
  in.set("tok", i32({B, T}, {0, 0, 0, 0, 0, 0}));
  in.set("ids", i32({B, T}, {0, 0, 4, 0, 0, 0}));
  CHECK_THROWS_WITH_AS(in.run(), "index 5 out of range [0, 5) reading 'E'", RuntimeFault);
}

TEST_CASE("reductions") {
  ir::Graph g;
  ir::Builder b(g);
  ir::Value *x = input(b, "x", {2, 4});
  ir::Value *rowSum = b.reduce(OpKind::ReduceSum, x, {1});
  ir::Value *colSum = b.reduce(OpKind::ReduceSum, x, {0});
  ir::Value *total = b.reduce(OpKind::ReduceSum, x, {0, 1});
  ir::Value *mx = b.reduce(OpKind::ReduceMax, x, {1});
  ir::Value *mn = b.reduce(OpKind::ReduceMin, x, {1});
  ir::Value *am = b.reduce(OpKind::ArgMax, x, {1});
  ir::Value *am0 = b.reduce(OpKind::ArgMax, x, {0});
  ir::Value *lse = b.reduce(OpKind::LogSumExp, x, {1});
  Interpreter in(g);
  in.set("x", f32({2, 4}, {1, 3, 3, 2, 1000, 1000, -5, 999}));
  in.run();
  checkClose(in.value(rowSum), {9, 2994});
  checkClose(in.value(colSum), {1001, 1003, -2, 1001});
  checkClose(in.value(total), {3003});
  CHECK(in.value(total).type == TensorType::f32({}));
  checkClose(in.value(mx), {3, 1000});
  checkClose(in.value(mn), {1, -5});
  checkClose(in.value(am), {1, 0}); // ties: the first maximum
  CHECK(in.value(am).type == TensorType::i32({2}));
  checkClose(in.value(am0), {1, 1, 0, 1});
  // logsumexp(1000, 1000, -5, 999) = 1000 + log(2 + e^-1005 + e^-1), finite.
  double l0 = 3 + std::log(std::exp(-2) + 2 * std::exp(0) + std::exp(-1));
  double l1 = 1000 + std::log(2 + std::exp(-1));
  checkClose(in.value(lse), {l0, l1});
}

TEST_CASE("softmax and log_softmax are stable") {
  ir::Graph g;
  ir::Builder b(g);
  ir::Value *x = input(b, "x", {2, 3});
  ir::Value *sm = b.normalize(OpKind::Softmax, x, {1});
  ir::Value *lsm = b.normalize(OpKind::LogSoftmax, x, {1});
  ir::Value *sm0 = b.normalize(OpKind::Softmax, x, {0});
  Interpreter in(g);
  in.set("x", f32({2, 3}, {1000, 1001, 1002, -1, 0, 1}));
  in.run();
  double z = 1 + std::exp(1) + std::exp(2);
  std::vector<double> p = {1 / z, std::exp(1) / z, std::exp(2) / z};
  checkClose(in.value(sm), {p[0], p[1], p[2], p[0], p[1], p[2]});
  checkClose(in.value(lsm), {-std::log(z), 1 - std::log(z), 2 - std::log(z), -std::log(z),
                             1 - std::log(z), 2 - std::log(z)});
  checkClose(in.value(sm0), {1, 1, 1, 0, 0, 0});
}

TEST_CASE("params, noise, state updates and missing inputs") {
  ir::Graph g;
  ir::Builder b(g);
  ir::Value *x = input(b, "x", {2});
  ir::Value *w = b.leaf(OpKind::Param, "w", TensorType::f32({2}), {ir::InitSpec::He, 0, 0, 2});
  ir::Value *m = b.leaf(OpKind::State, "m", TensorType::f32({2}), {ir::InitSpec::Zeros});
  ir::Value *eps = b.leaf(OpKind::Noise, "eps", TensorType::f32({2}), {ir::InitSpec::Normal, 1});
  ir::Value *y = b.binary(OpKind::Add, b.binary(OpKind::Mul, w, x), eps);
  ir::Value *mNext = b.binary(OpKind::Add, m, x);
  g.outputs.push_back({"y", y, {}});
  g.updates.push_back({m, mNext, {}});

  Interpreter in(g);
  CHECK(in.missingInputs() == std::vector<std::string>{"x"});
  in.initParams(3);
  CHECK_THROWS_AS(in.run(), InternalError);
  in.set("x", f32({2}, {1, 2}));
  CHECK(in.missingInputs().empty());

  // Params: the same seed gives the same f32-rounded values.
  DTensor w3 = in.leafValue("w");
  CHECK(w3.data[0] == static_cast<double>(static_cast<float>(w3.data[0])));
  Interpreter other(g);
  other.initParams(3);
  CHECK(other.leafValue("w").data == w3.data);
  other.initParams(4);
  CHECK(other.leafValue("w").data != w3.data);

  // Noise: fresh on each run; reproducible from the noise seed and call.
  in.setNoiseSeed(77);
  in.run();
  DTensor e0 = in.value(eps);
  in.run();
  CHECK(in.value(eps).data != e0.data);
  CHECK(in.noiseCall() == 2);
  in.setNoiseSeed(77, 0);
  in.run();
  CHECK(in.value(eps).data == e0.data);
  // A set noise value is held fixed.
  in.set("eps", f32({2}, {0.5, -0.5}));
  in.run();
  checkClose(in.output("y"), {w3.data[0] * 1 + 0.5, w3.data[1] * 2 - 0.5});

  // State: updated only by applyUpdates, from the last run's values.
  checkClose(in.value(m), {0, 0});
  in.applyUpdates();
  checkClose(in.leafValue("m"), {1, 2});
  in.run();
  in.applyUpdates();
  checkClose(in.leafValue("m"), {2, 4});
}
