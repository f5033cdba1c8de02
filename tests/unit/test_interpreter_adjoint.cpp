//===- tests/unit/test_interpreter_adjoint.cpp - Adjoint ops --------------===//
//
// scatter_add and contracts with an output map: values by hand, and the
// identities reverse-mode autodiff relies on. For a remap R and the
// scatter_add S with the same map, <R(x), g> = <x, S(g)>; for a contract
// C(x, w) and the contract G_x whose output map is x's map in C and whose
// factors are g (at C's result positions) and w, <C(x, w), g> = <x, G_x>.
//
//===----------------------------------------------------------------------===//
#include "InterpreterTestUtil.h"
#include "ir/Verifier.h"

#include <chrono>
#include <cmath>

using namespace gradc;
using namespace gradc::runtime;
using namespace gradc::testutil;
using ir::OpKind;

namespace {

double dot(const DTensor &a, const DTensor &b) {
  REQUIRE(a.data.size() == b.data.size());
  double s = 0;
  for (size_t i = 0; i < a.data.size(); ++i)
    s += a.data[i] * b.data[i];
  return s;
}

void checkSameDot(double lhs, double rhs) {
  INFO("<y, g> = " << lhs << ", <x, adjoint(g)> = " << rhs);
  CHECK(lhs != 0.0); // a vacuous identity would prove nothing
  CHECK(std::fabs(lhs - rhs) <= 1e-12 * std::max(std::fabs(lhs), std::fabs(rhs)));
}

/// An indirect position: index tensor operand 1 read at `at`, plus `shift`.
ir::AxisIndex indirect(std::vector<Affine> at, int64_t shift = 0) {
  return ir::AxisIndex{Affine::constantOf(shift), 1, std::move(at)};
}

/// An affine position, for maps that mix affine and indirect axes.
ir::AxisIndex affine(Affine a) { return ir::AxisIndex{std::move(a), -1, {}}; }

/// Random ints in [0, n).
DTensor randomIndex(std::vector<int64_t> shape, int64_t n, uint64_t seed) {
  DTensor t = DTensor::zeros(TensorType::i32(std::move(shape)));
  runtime::Random r(seed);
  for (double &v : t.data)
    v = std::floor(r.uniform() * static_cast<double>(n));
  return t;
}

/// Checks <remap(x), g> == <x, scatter_add(g)> for one map.
void checkRemapAdjoint(std::vector<int64_t> xShape, const IndexMap &map,
                       std::vector<int64_t> yShape, const DTensor *tok = nullptr) {
  ir::Graph g;
  ir::Builder b(g);
  ir::Value *x = input(b, "x", xShape);
  ir::Value *gy = input(b, "g", yShape);
  std::vector<ir::Value *> index;
  if (tok)
    index.push_back(b.leaf(OpKind::Input, "tok", tok->type));
  ir::Value *y = b.remap(x, map, yShape, index);
  ir::Value *gx = b.scatterAdd(gy, map, xShape, index);
  REQUIRE(ir::verifyGraph(g).empty());
  Interpreter in(g);
  in.set("x", randomF32(xShape, 1));
  in.set("g", randomF32(yShape, 2));
  if (tok)
    in.set("tok", *tok);
  in.run();
  checkSameDot(dot(in.value(y), in.leafValue("g")), dot(in.leafValue("x"), in.value(gx)));
}

/// The gradient of contract `c` with respect to factor k, as autodiff
/// writes it: c's loops (result axes, then reductions), g read at c's
/// result positions, the other factors through their maps, and factor k's
/// map as the output map.
ir::Value *contractAdjoint(ir::Builder &b, const ir::Op &c, size_t k, ir::Value *g) {
  const int rank = static_cast<int>(c.result()->type.rank());
  std::vector<ir::Value *> factors{g};
  std::vector<IndexMap> maps{ir::identityMap(rank)};
  for (size_t j = 0; j < c.operands.size(); ++j)
    if (j != k) {
      factors.push_back(c.operand(static_cast<int>(j)));
      maps.push_back(c.maps[j]);
    }
  std::vector<int64_t> loops = c.result()->type.shape;
  loops.insert(loops.end(), c.reductionSizes.begin(), c.reductionSizes.end());
  return b.contractInto(factors, maps, c.maps[k], c.operand(static_cast<int>(k))->type.shape,
                        loops);
}

/// Checks <C(f0, f1, ...), g> == <f_k, G_k> for every factor k.
void checkContractAdjoint(std::vector<std::vector<int64_t>> shapes, std::vector<IndexMap> maps,
                          std::vector<int64_t> yShape, std::vector<int64_t> reductions) {
  ir::Graph g;
  ir::Builder b(g);
  std::vector<ir::Value *> fs;
  for (size_t k = 0; k < shapes.size(); ++k)
    fs.push_back(input(b, "f" + std::to_string(k), shapes[k]));
  ir::Value *y = b.contract(fs, maps, yShape, reductions);
  ir::Value *gy = input(b, "g", yShape);
  std::vector<ir::Value *> grads;
  for (size_t k = 0; k < fs.size(); ++k)
    grads.push_back(contractAdjoint(b, *y->def, k, gy));
  REQUIRE(ir::verifyGraph(g).empty());
  Interpreter in(g);
  for (size_t k = 0; k < fs.size(); ++k)
    in.set("f" + std::to_string(k), randomF32(shapes[k], 10 + k));
  in.set("g", randomF32(yShape, 3));
  in.run();
  const double lhs = dot(in.value(y), in.leafValue("g"));
  for (size_t k = 0; k < fs.size(); ++k) {
    INFO("factor " << k);
    checkSameDot(lhs, dot(in.leafValue("f" + std::to_string(k)), in.value(grads[k])));
  }
}

} // namespace

TEST_CASE("scatter_add: padding, stride, broadcast, transpose and repeated indices") {
  ir::Graph g;
  ir::Builder b(g);
  ir::Value *v = input(b, "v", {5});
  ir::Value *m = input(b, "m", {2, 3});
  ir::Value *s = input(b, "s", {});
  ir::Value *rows = input(b, "rows", {2, 2, 2});
  ir::Value *tok = b.leaf(OpKind::Input, "tok", TensorType::i32({2, 2}));
  // Positions -1 and 7 are out of bounds: those elements are dropped.
  ir::Value *strided = b.scatterAdd(v, mapOf({loopVar(0, -1, 2)}), {6});
  ir::Value *summed = b.scatterAdd(m, mapOf({loopVar(1)}), {3});
  ir::Value *transposed = b.scatterAdd(m, mapOf({loopVar(1), loopVar(0)}), {3, 2});
  ir::Value *placed = b.scatterAdd(s, mapOf({Affine::constantOf(2)}), {4});
  ir::Value *dropped = b.scatterAdd(s, mapOf({Affine::constantOf(4)}), {4});
  IndexMap byTok{indirect({loopVar(0), loopVar(1)}), affine(loopVar(2))};
  ir::Value *emb = b.scatterAdd(rows, byTok, {4, 2}, {tok});
  // tok[b, t-1] + 1: at t = 0 the index read is out of bounds and gives 0.
  IndexMap byPrev{indirect({loopVar(0), loopVar(1, -1)}, 1), affine(loopVar(2))};
  ir::Value *prev = b.scatterAdd(rows, byPrev, {4, 2}, {tok});
  REQUIRE(ir::verifyGraph(g).empty());

  Interpreter in(g);
  in.set("v", f32({5}, {1, 2, 3, 4, 5}));
  in.set("m", f32({2, 3}, {1, 2, 3, 4, 5, 6}));
  in.set("s", f32({}, {7}));
  in.set("rows", f32({2, 2, 2}, {1, 2, 10, 20, 100, 200, 1000, 2000}));
  in.set("tok", i32({2, 2}, {2, 1, 0, 2}));
  in.run();
  checkClose(in.value(strided), {0, 2, 0, 3, 0, 4});
  checkClose(in.value(summed), {5, 7, 9});
  checkClose(in.value(transposed), {1, 4, 2, 5, 3, 6});
  checkClose(in.value(placed), {0, 0, 7, 0});
  checkClose(in.value(dropped), {0, 0, 0, 0});
  // Row (b, t) of `rows` goes to row tok[b, t]: row 2 gets two of them.
  checkClose(in.value(emb), {100, 200, 10, 20, 1001, 2002, 0, 0});
  // Row (b, t) goes to row tok[b, t-1] + 1: (0, 0) and (1, 0) to row 1,
  // (0, 1) to tok[0, 0] + 1 = 3, (1, 1) to tok[1, 0] + 1 = 1.
  checkClose(in.value(prev), {0, 0, 1101, 2202, 0, 0, 10, 20});
}

TEST_CASE("contract with an output map: accumulation by hand") {
  ir::Graph g;
  ir::Builder b(g);
  ir::Value *a = input(b, "a", {3});
  ir::Value *c = input(b, "c", {3});
  ir::Value *s = input(b, "s", {});
  // out[r0 + r1] += a[r0] * c[r1]: the product of two polynomials.
  ir::Value *full = b.contractInto({a, c}, {mapOf({loopVar(0)}), mapOf({loopVar(1)})},
                                   mapOf({loopVar(0).plus(loopVar(1))}), {5}, {3, 3});
  // The same, one position earlier, cut to 3: positions -1 and 3 are dropped.
  ir::Value *cut = b.contractInto({a, c}, {mapOf({loopVar(0)}), mapOf({loopVar(1)})},
                                  mapOf({loopVar(0).plus(loopVar(1, -1))}), {3}, {3, 3});
  // out[2*r0] += a[r0]: a strided placement, no reduction at all.
  ir::Value *spread =
      b.contractInto({a}, {mapOf({loopVar(0)})}, mapOf({loopVar(0, 0, 2)}), {5}, {3});
  // No loops: the product of scalars lands at a constant position.
  ir::Value *point = b.contractInto({s, s}, {{}, {}}, mapOf({Affine::constantOf(1)}), {3}, {});
  // A loop variable the output map ignores sums over it: out[r0] += a[r1].
  ir::Value *sums = b.contractInto({a}, {mapOf({loopVar(1)})}, mapOf({loopVar(0)}), {2}, {2, 3});
  REQUIRE(ir::verifyGraph(g).empty());

  Interpreter in(g);
  in.set("a", f32({3}, {1, 2, 3}));
  in.set("c", f32({3}, {1, 10, 100}));
  in.set("s", f32({}, {3}));
  in.run();
  checkClose(in.value(full), {1, 12, 123, 230, 300});
  checkClose(in.value(cut), {12, 123, 230});
  checkClose(in.value(spread), {1, 0, 2, 0, 3});
  checkClose(in.value(point), {0, 9, 0});
  checkClose(in.value(sums), {6, 6});
}

TEST_CASE("adjoint identity: remap and scatter_add") {
  SUBCASE("padding and stride") {
    checkRemapAdjoint({7, 3}, mapOf({loopVar(0, -1, 2), loopVar(1)}), {5, 3});
  }
  SUBCASE("overlapping 2-D patches") {
    Affine row = loopVar(1, -1, 2).plus(loopVar(3)), col = loopVar(2, -1, 2).plus(loopVar(4));
    checkRemapAdjoint({2, 5, 5}, mapOf({loopVar(0), row, col}), {2, 3, 3, 3, 3});
  }
  SUBCASE("transpose") { checkRemapAdjoint({3, 4}, mapOf({loopVar(1), loopVar(0)}), {4, 3}); }
  SUBCASE("broadcast") { checkRemapAdjoint({4}, mapOf({loopVar(1)}), {3, 4}); }
  SUBCASE("flip past both ends") { checkRemapAdjoint({4}, mapOf({loopVar(0, 5, -1)}), {7}); }
  SUBCASE("embedding gather") {
    DTensor tok = randomIndex({2, 5}, 6, 4);
    checkRemapAdjoint({6, 3}, {indirect({loopVar(0), loopVar(1)}), affine(loopVar(2))}, {2, 5, 3},
                      &tok);
  }
  SUBCASE("gather of the previous token, shifted") {
    DTensor tok = randomIndex({2, 5}, 5, 5);
    checkRemapAdjoint({6, 3}, {indirect({loopVar(0), loopVar(1, -1)}, 1), affine(loopVar(2))},
                      {2, 5, 3}, &tok);
  }
  SUBCASE("gather with padding: bad indices at padded positions are never looked at") {
    // y[d0, d1] = E[tok[d0], d0 - 1]: d0 = 0 and d0 = 4 are padding, so
    // tok[0] and tok[4] may hold anything.
    DTensor tok = i32({5}, {99, 2, 0, 5, -7});
    checkRemapAdjoint({6, 3}, {indirect({loopVar(0)}), affine(loopVar(0, -1))}, {5, 2}, &tok);
  }
}

TEST_CASE("adjoint identity: contract and contract with an output map") {
  SUBCASE("matmul") {
    // y[b, j] = sum_k x[b, k] * w[k, j]; loops b, j, k.
    checkContractAdjoint({{3, 4}, {4, 5}},
                         {mapOf({loopVar(0), loopVar(2)}), mapOf({loopVar(2), loopVar(1)})}, {3, 5},
                         {4});
  }
  SUBCASE("padded strided 1-D convolution") {
    // y[o, c] = sum_{r, i} x[2*o + r - 1, i] * F[r, i, c]; loops o, c, r, i.
    checkContractAdjoint({{7, 2}, {3, 2, 3}},
                         {mapOf({loopVar(0, -1, 2).plus(loopVar(2)), loopVar(3)}),
                          mapOf({loopVar(2), loopVar(3), loopVar(1)})},
                         {4, 3}, {3, 2});
  }
  SUBCASE("padded strided 2-D convolution") {
    // y[b, oy, ox, co] = sum_{ky, kx, ci} x[b, 2*oy + ky - 1, 2*ox + kx - 1, ci]
    //                    * w[ky, kx, ci, co]; loops b, oy, ox, co, ky, kx, ci.
    Affine row = loopVar(1, -1, 2).plus(loopVar(4)), col = loopVar(2, -1, 2).plus(loopVar(5));
    checkContractAdjoint({{2, 6, 6, 3}, {3, 3, 3, 4}},
                         {mapOf({loopVar(0), row, col, loopVar(6)}),
                          mapOf({loopVar(4), loopVar(5), loopVar(6), loopVar(3)})},
                         {2, 3, 3, 4}, {3, 3, 3});
  }
  SUBCASE("three factors, one broadcast") {
    // y[i] = sum_j a[i, j] * v[j] * c[i]; loops i, j.
    checkContractAdjoint(
        {{4, 5}, {5}, {4}},
        {mapOf({loopVar(0), loopVar(1)}), mapOf({loopVar(1)}), mapOf({loopVar(0)})}, {4}, {5});
  }
}

TEST_CASE("scatter_add faults on an out-of-range index at its location") {
  ir::Graph g;
  ir::Builder b(g);
  ir::Value *rows = input(b, "rows", {2, 3});
  ir::Value *tok = b.leaf(OpKind::Input, "tok", TensorType::i32({2}));
  b.setLoc(SourceLoc{1, 9, 5});
  ir::Value *grad = b.scatterAdd(rows, {indirect({loopVar(0)}), affine(loopVar(1))}, {4, 3}, {tok});
  b.name(grad, "grad.E");
  Interpreter in(g);
  in.set("rows", randomF32({2, 3}, 1));
  in.set("tok", i32({2}, {1, 4}));
  try {
    in.run();
    FAIL("expected a run-time fault");
  } catch (const RuntimeFault &f) {
    CHECK(std::string(f.what()) == "index 4 out of range [0, 4) scattering into 'grad.E'");
    CHECK(f.loc == SourceLoc{1, 9, 5});
  }
  in.set("tok", i32({2}, {-1, 0}));
  CHECK_THROWS_WITH_AS(in.run(), "index -1 out of range [0, 4) scattering into 'grad.E'",
                       RuntimeFault);
  in.set("tok", i32({2}, {3, 0}));
  CHECK_NOTHROW(in.run());
}

TEST_CASE("a 3x3 convolution's input gradient on [8,16,16,8] is quick and right") {
  // x[b, y, x, ci] feeds out[b, oy, ox, co] = sum x[b, oy+ky-1, ox+kx-1, ci]
  // * w[ky, kx, ci, co]; its input gradient accumulates g * w at x's map.
  const int64_t B = 8, H = 16, C = 8, K = 3;
  ir::Graph g;
  ir::Builder b(g);
  ir::Value *gy = input(b, "g", {B, H, H, C});
  ir::Value *w = input(b, "w", {K, K, C, C});
  // Loops b, oy, ox, co, ky, kx, ci (v0..v6).
  IndexMap xMap = mapOf(
      {loopVar(0), loopVar(1, -1).plus(loopVar(4)), loopVar(2, -1).plus(loopVar(5)), loopVar(6)});
  ir::Value *gx = b.contractInto({gy, w},
                                 {mapOf({loopVar(0), loopVar(1), loopVar(2), loopVar(3)}),
                                  mapOf({loopVar(4), loopVar(5), loopVar(6), loopVar(3)})},
                                 xMap, {B, H, H, C}, {B, H, H, C, K, K, C});
  Interpreter in(g);
  DTensor gv = randomF32({B, H, H, C}, 1), wv = randomF32({K, K, C, C}, 2);
  in.set("g", gv);
  in.set("w", wv);
  auto start = std::chrono::steady_clock::now();
  in.run();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO("conv input gradient: " << seconds << " s");
  CHECK(seconds < 2.0); // about 0.05 s in a release build; a slow path would take far longer
  // The same gradient as a direct loop over x's positions.
  std::vector<double> want(B * H * H * C, 0.0);
  auto at = [&](int64_t n, int64_t i, int64_t j, int64_t c) {
    return ((n * H + i) * H + j) * C + c;
  };
  for (int64_t n = 0; n < B; ++n)
    for (int64_t i = 0; i < H; ++i)
      for (int64_t j = 0; j < H; ++j)
        for (int64_t ky = 0; ky < K; ++ky)
          for (int64_t kx = 0; kx < K; ++kx) {
            int64_t oy = i + 1 - ky, ox = j + 1 - kx;
            if (oy < 0 || oy >= H || ox < 0 || ox >= H)
              continue;
            for (int64_t ci = 0; ci < C; ++ci)
              for (int64_t co = 0; co < C; ++co)
                want[at(n, i, j, ci)] +=
                    gv.data[at(n, oy, ox, co)] * wv.data[((ky * K + kx) * C + ci) * C + co];
          }
  checkClose(in.value(gx), want);
}
