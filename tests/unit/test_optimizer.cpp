//===- tests/unit/test_optimizer.cpp - The optimizers' update rules --------===//
//
// runtime::referenceStep and clipScale. With GRADC_OPT_FIXTURES set (the
// `optimizer_torch` ctest entry runs tests/unit/optimizer_fixtures.py
// first), every optimizer's first five updates are compared with
// torch.optim's from the same parameters and gradients, clipping included;
// without it, the rules are checked on values worked out by hand.
//
//===----------------------------------------------------------------------===//
#include "runtime/NpyIO.h"
#include "runtime/Optimizer.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace gradc::runtime;

namespace {

OptimizerConfig configOf(const std::string &name, std::map<std::string, double> args) {
  std::string error;
  auto c = OptimizerConfig::fromSpec(name, args, error);
  REQUIRE_MESSAGE(c, error);
  return *c;
}

} // namespace

TEST_CASE("optimizer rules on values worked out by hand") {
  double p[1] = {1.0}, g[1] = {0.5};
  SUBCASE("sgd") {
    referenceStep(configOf("sgd", {{"lr", 0.1}}), 1, 1.0, p, g, {}, 1);
    CHECK(p[0] == doctest::Approx(0.95));
  }
  SUBCASE("momentum: the first buffer is the gradient") {
    double b[1] = {0};
    OptimizerConfig c = configOf("momentum", {{"lr", 0.1}, {"beta", 0.9}});
    referenceStep(c, 1, 1.0, p, g, {b}, 1);
    CHECK(b[0] == doctest::Approx(0.5));
    referenceStep(c, 2, 1.0, p, g, {b}, 1);
    CHECK(b[0] == doctest::Approx(0.95));
    CHECK(p[0] == doctest::Approx(1.0 - 0.05 - 0.095));
  }
  SUBCASE("adam's first step moves every weight by about lr") {
    double m[1] = {0}, v[1] = {0};
    referenceStep(configOf("adam", {{"lr", 0.01}}), 1, 1.0, p, g, {m, v}, 1);
    CHECK(p[0] == doctest::Approx(0.99).epsilon(1e-6));
  }
  SUBCASE("adamw decays the weight before the step") {
    double m[1] = {0}, v[1] = {0};
    OptimizerConfig c = configOf("adamw", {{"lr", 0.01}});
    CHECK(c.weightDecay == 0.01); // torch's default
    referenceStep(c, 1, 1.0, p, g, {m, v}, 1);
    CHECK(p[0] == doctest::Approx(1.0 * (1 - 0.0001) - 0.01).epsilon(1e-6));
  }
  SUBCASE("clipping scales to the limit, and only above it") {
    OptimizerConfig c = configOf("sgd", {{"lr", 1}});
    CHECK(clipScale(c, 100.0) == 1.0); // no clip_norm
    c.clipNorm = 5;
    CHECK(clipScale(c, 100.0) == doctest::Approx(0.5)); // ||g|| = 10
    CHECK(clipScale(c, 4.0) == 1.0);
  }
  std::string error;
  CHECK_FALSE(OptimizerConfig::fromSpec("lion", {{"lr", 1}}, error));
  CHECK_FALSE(OptimizerConfig::fromSpec("sgd", {{"lr", 1}, {"beta", 0.9}}, error) == std::nullopt);
  CHECK(configOf("rmsprop", {{"lr", 0.1}}).stateNames() == std::vector<std::string>{"square_avg"});
  CHECK(configOf("adam", {{"lr", 0.1}}).describe() ==
        "adam(lr = 0.1, beta1 = 0.9, beta2 = 0.999, eps = 1e-08)");
}

TEST_CASE("the first five updates equal torch.optim's") {
  const char *dir = std::getenv("GRADC_OPT_FIXTURES");
  if (!dir) {
    MESSAGE("GRADC_OPT_FIXTURES is not set (the optimizer_torch test sets it); skipped");
    return;
  }
  int cases = 0;
  for (const auto &entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json")
      continue;
    std::string stem = entry.path().stem().string();
    INFO(stem);
    nlohmann::json spec = nlohmann::json::parse(std::ifstream(entry.path()));
    OptimizerConfig c =
        configOf(spec["name"].get<std::string>(), spec["args"].get<std::map<std::string, double>>());
    c.clipNorm = spec["clip_norm"].get<double>();
    std::string error;
    auto arrays = readNpz((entry.path().parent_path() / (stem + ".npz")).string(), error);
    REQUIRE_MESSAGE(arrays, error);
    auto get = [&](const std::string &key) -> const HostArray & {
      for (auto &[name, a] : *arrays)
        if (name == key)
          return a;
      FAIL("no array " << key);
      static HostArray none;
      return none;
    };
    std::vector<std::vector<double>> p, grad;
    std::vector<std::vector<std::vector<double>>> state;
    for (int k = 0; k < 3; ++k) {
      const HostArray &a = get("p0_" + std::to_string(k));
      p.emplace_back(a.f32(), a.f32() + a.numElements());
      state.emplace_back(c.stateNames().size(), std::vector<double>(a.numElements(), 0.0));
    }
    for (int step = 1; step <= 5; ++step) {
      double sumsq = 0;
      grad.clear();
      for (int k = 0; k < 3; ++k) {
        const HostArray &a = get("g" + std::to_string(step) + "_" + std::to_string(k));
        grad.emplace_back(a.f32(), a.f32() + a.numElements());
        for (double x : grad.back())
          sumsq += x * x;
      }
      double scale = clipScale(c, sumsq);
      for (int k = 0; k < 3; ++k) {
        std::vector<double *> s;
        for (auto &v : state[k])
          s.push_back(v.data());
        referenceStep(c, step, scale, p[k].data(), grad[k].data(), s,
                      static_cast<int64_t>(p[k].size()));
        const HostArray &want = get("p" + std::to_string(step) + "_" + std::to_string(k));
        for (size_t i = 0; i < p[k].size(); ++i) {
          double w = want.f32()[i];
          CHECK_MESSAGE(std::fabs(p[k][i] - w) <= 2e-6 * (1 + std::fabs(w)),
                        "step " << step << ", parameter " << k << "[" << i << "]: " << p[k][i]
                                << " vs torch " << w);
        }
      }
    }
    ++cases;
  }
  CHECK(cases == 7);
}
