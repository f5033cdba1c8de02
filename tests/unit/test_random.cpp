//===- tests/unit/test_random.cpp - Random numbers and initializers -------===//
#include "ir/Builder.h"
#include "runtime/Initializers.h"
#include "runtime/Random.h"

#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <vector>

using namespace gradc;
using namespace gradc::runtime;

namespace {

struct Moments {
  double mean = 0, var = 0;
};

Moments moments(const std::vector<double> &xs) {
  Moments m;
  for (double x : xs)
    m.mean += x;
  m.mean /= double(xs.size());
  for (double x : xs)
    m.var += (x - m.mean) * (x - m.mean);
  m.var /= double(xs.size() - 1);
  return m;
}

std::vector<double> normals(Random &r, size_t n) {
  std::vector<double> xs(n);
  r.fillNormal(xs.data(), n);
  return xs;
}

} // namespace

TEST_CASE("philox4x32-10 matches the Random123 known-answer vectors") {
  using W4 = std::array<uint32_t, 4>;
  CHECK(philox4x32({0, 0, 0, 0}, {0, 0}) == W4{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8});
  CHECK(philox4x32({~0u, ~0u, ~0u, ~0u}, {~0u, ~0u}) ==
        W4{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd});
  CHECK(philox4x32({0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0}) ==
        W4{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1});
}

TEST_CASE("the same seed gives the same numbers, other seeds and streams differ") {
  Random a(42), b(42), c(43), d(42, 7);
  auto xa = normals(a, 100), xb = normals(b, 100), xc = normals(c, 100), xd = normals(d, 100);
  CHECK(xa == xb);
  CHECK(xa != xc);
  CHECK(xa != xd);
  // Seeds that differ only in their high half are different keys.
  Random e(42 + (uint64_t(1) << 32));
  CHECK(normals(e, 100) != xa);
}

TEST_CASE("uniform draws lie in [0, 1) with mean 1/2") {
  Random r(1);
  std::vector<double> xs(100000);
  r.fillUniform(xs.data(), xs.size());
  for (double x : xs)
    REQUIRE((x >= 0 && x < 1));
  Moments m = moments(xs);
  CHECK(m.mean == doctest::Approx(0.5).epsilon(0.01));
  CHECK(m.var == doctest::Approx(1.0 / 12).epsilon(0.02));
  Random f(1);
  for (int i = 0; i < 1000; ++i) {
    float u = f.uniformFloat();
    REQUIRE((u >= 0.0f && u < 1.0f));
  }
}

TEST_CASE("normal draws have mean 0 and variance 1") {
  Random r(2024);
  Moments m = moments(normals(r, 100000));
  // Standard errors: 0.0032 for the mean, 0.0045 for the variance.
  CHECK(std::fabs(m.mean) < 0.015);
  CHECK(std::fabs(m.var - 1.0) < 0.02);
}

TEST_CASE("a saved state resumes the same stream") {
  Random r(9, kParamStream);
  normals(r, 17);
  RandomState saved = r.state();
  CHECK(saved == RandomState{9, kParamStream, 17});
  auto ahead = normals(r, 50);
  Random s(0);
  s.setState(saved);
  CHECK(normals(s, 50) == ahead);
  // Skipping equals drawing, and any position can be computed directly:
  // this is what makes parallel fills independent of the thread count.
  Random t(9);
  t.skip(17);
  CHECK(t.normal() == ahead[0]);
  CHECK(Random::normalAt({9, kParamStream, 17 + 3}) == ahead[3]);
  Random u(9);
  u.skip(5);
  CHECK(Random::uniformAt({9, kParamStream, 5}) == u.uniform());
}

TEST_CASE("initializer kinds") {
  auto spec = [](ir::InitSpec::Kind k, double a = 0, double b = 0, int64_t fanIn = 0,
                 int64_t fanOut = 0) {
    ir::InitSpec s;
    s.kind = k;
    s.a = a;
    s.b = b;
    s.fanIn = fanIn;
    s.fanOut = fanOut;
    return s;
  };
  const int64_t n = 100000;
  std::vector<double> xs(n);

  SUBCASE("deterministic kinds take no draws") {
    Random r(3);
    fillInit(spec(ir::InitSpec::Constant, 2.5), r, xs.data(), 4);
    CHECK(xs[0] == 2.5);
    CHECK(xs[3] == 2.5);
    fillInit(spec(ir::InitSpec::Ones), r, xs.data(), 4);
    CHECK(xs[2] == 1.0);
    fillInit(spec(ir::InitSpec::Zeros), r, xs.data(), 4);
    CHECK(xs[1] == 0.0);
    CHECK(r.state().position == 0);
    CHECK(drawsFor(spec(ir::InitSpec::Zeros), 10) == 0);
    CHECK(drawsFor(spec(ir::InitSpec::He, 0, 0, 4), 10) == 10);
  }
  SUBCASE("he: normal with variance 2/fanIn") {
    Random r(5);
    fillInit(spec(ir::InitSpec::He, 0, 0, 50), r, xs.data(), n);
    Moments m = moments(xs);
    CHECK(std::fabs(m.mean) < 0.003);
    CHECK(m.var == doctest::Approx(2.0 / 50).epsilon(0.03));
    CHECK(r.state().position == uint64_t(n));
  }
  SUBCASE("lecun and xavier") {
    Random r(6);
    fillInit(spec(ir::InitSpec::Lecun, 0, 0, 20), r, xs.data(), n);
    CHECK(moments(xs).var == doctest::Approx(1.0 / 20).epsilon(0.03));
    fillInit(spec(ir::InitSpec::Xavier, 0, 0, 30, 10), r, xs.data(), n);
    CHECK(moments(xs).var == doctest::Approx(2.0 / 40).epsilon(0.03));
    fillInit(spec(ir::InitSpec::Normal, 0.5), r, xs.data(), n);
    CHECK(moments(xs).var == doctest::Approx(0.25).epsilon(0.03));
  }
  SUBCASE("uniform(a, b)") {
    Random r(7);
    fillInit(spec(ir::InitSpec::Uniform, -2, 1), r, xs.data(), n);
    for (double x : xs)
      REQUIRE((x >= -2 && x < 1));
    CHECK(moments(xs).mean == doctest::Approx(-0.5).epsilon(0.01));
  }
  SUBCASE("a float fill is the double fill rounded") {
    Random r(8), s(8);
    std::vector<float> fs(100);
    fillInit(spec(ir::InitSpec::He, 0, 0, 3), r, xs.data(), 100);
    fillInit(spec(ir::InitSpec::He, 0, 0, 3), s, fs.data(), 100);
    for (int i = 0; i < 100; ++i)
      REQUIRE(fs[i] == static_cast<float>(xs[i]));
  }
}

TEST_CASE("leaves are initialized in graph order from one stream") {
  ir::Graph g;
  ir::Builder b(g);
  ir::InitSpec normal1{ir::InitSpec::Normal, 1.0};
  ir::InitSpec zeros{ir::InitSpec::Zeros};
  b.leaf(ir::OpKind::Input, "x", ir::TensorType::f32({2}));
  b.leaf(ir::OpKind::Param, "A", ir::TensorType::f32({3}), normal1);
  b.leaf(ir::OpKind::Param, "bias", ir::TensorType::f32({2}), zeros);
  b.leaf(ir::OpKind::State, "m", ir::TensorType::f32({2}), zeros);
  b.leaf(ir::OpKind::Param, "C", ir::TensorType::f32({2}), normal1);
  b.leaf(ir::OpKind::Noise, "eps", ir::TensorType::f32({2}), normal1);

  std::vector<std::string> order;
  std::map<std::string, std::vector<double>> got;
  initializeLeaves(g, 11, [&](const ir::Op &leaf, std::vector<double> values) {
    order.push_back(leaf.name);
    got[leaf.name] = std::move(values);
  });
  CHECK(order == std::vector<std::string>{"A", "bias", "m", "C"});
  Random r(11, kParamStream);
  auto stream = normals(r, 5);
  CHECK(got["A"] == std::vector<double>(stream.begin(), stream.begin() + 3));
  CHECK(got["bias"] == std::vector<double>{0, 0});
  // The zeros take no draws, so C continues right after A.
  CHECK(got["C"] == std::vector<double>(stream.begin() + 3, stream.end()));

  // Noise of call c comes from its own stream, different for every call.
  std::vector<double> call0, call1;
  drawNoise(g, 11, 0, [&](const ir::Op &, std::vector<double> v) { call0 = v; });
  drawNoise(g, 11, 1, [&](const ir::Op &, std::vector<double> v) { call1 = v; });
  Random n0(11, noiseStream(0));
  CHECK(call0 == normals(n0, 2));
  CHECK(call0 != call1);
}
