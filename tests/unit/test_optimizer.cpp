//===- tests/unit/test_optimizer.cpp - The optimizers' update rules --------===//
//
// runtime::referenceStep and clipScale. With GRADC_OPT_FIXTURES set (the
// `optimizer_torch` ctest entry runs tests/unit/optimizer_fixtures.py
// first), every optimizer's first five updates are compared with
// torch.optim's from the same parameters and gradients, clipping included,
// for the reference and for the generated fused update kernel
// (codegen/UpdateKernel.h); without it, the rules are checked on values
// worked out by hand, and the kernel against the reference.
//
//===----------------------------------------------------------------------===//
#include "codegen/UpdateKernel.h"
#include "runtime/NpyIO.h"
#include "runtime/Optimizer.h"
#include "runtime/Random.h"
#include "runtime/ThreadPool.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace gradc;
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
  CHECK_FALSE(OptimizerConfig::fromSpec("sgd", {{"lr", 1}, {"beta", 0.9}}, error));
  CHECK(error == "optimizer 'sgd' has no parameter 'beta'");
  CHECK(configOf("rmsprop", {{"lr", 0.1}}).stateNames() == std::vector<std::string>{"square_avg"});
  CHECK(configOf("adam", {{"lr", 0.1}}).describe() ==
        "adam(lr = 0.1, beta1 = 0.9, beta2 = 0.999, eps = 1e-08)");
}

namespace {

/// One fixture case: the config and a lookup of its arrays.
struct Fixture {
  OptimizerConfig config;
  NamedArrays arrays;
  const HostArray &get(const std::string &key) const {
    for (auto &[name, a] : arrays)
      if (name == key)
        return a;
    FAIL("no array " << key);
    static HostArray none;
    return none;
  }
  std::string at(int step, int k) const { return std::to_string(step) + "_" + std::to_string(k); }
};

std::vector<std::pair<std::string, Fixture>> fixtures(const char *dir) {
  std::vector<std::pair<std::string, Fixture>> out;
  for (const auto &entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json")
      continue;
    std::string stem = entry.path().stem().string();
    nlohmann::json spec = nlohmann::json::parse(std::ifstream(entry.path()));
    Fixture f;
    f.config = configOf(spec["name"].get<std::string>(),
                        spec["args"].get<std::map<std::string, double>>());
    f.config.clipNorm = spec["clip_norm"].get<double>();
    std::string error;
    auto arrays = readNpz((entry.path().parent_path() / (stem + ".npz")).string(), error);
    REQUIRE_MESSAGE(arrays, error);
    f.arrays = std::move(*arrays);
    out.emplace_back(stem, std::move(f));
  }
  return out;
}

bool close(double got, double want) {
  return std::fabs(got - want) <= 2e-6 * (1 + std::fabs(want));
}

} // namespace

TEST_CASE("the first five updates equal torch.optim's") {
  const char *dir = std::getenv("GRADC_OPT_FIXTURES");
  if (!dir) {
    MESSAGE("GRADC_OPT_FIXTURES is not set (the optimizer_torch test sets it); skipped");
    return;
  }
  auto cases = fixtures(dir);
  CHECK(cases.size() == 7);
  runtime::ThreadPool pool(2);
  for (auto &[stem, fx] : cases) {
    INFO(stem);
    const OptimizerConfig &c = fx.config;
    size_t states = c.stateNames().size();
    // The reference in double, the kernel in float32, side by side.
    std::vector<std::vector<double>> p, ref0, ref1;
    std::vector<std::vector<float>> pf, grads(3), s0(3), s1(3);
    std::vector<int64_t> sizes;
    for (int k = 0; k < 3; ++k) {
      const HostArray &a = fx.get("p0_" + std::to_string(k));
      p.emplace_back(a.f32(), a.f32() + a.numElements());
      pf.emplace_back(a.f32(), a.f32() + a.numElements());
      ref0.emplace_back(a.numElements(), 0.0);
      ref1.emplace_back(a.numElements(), 0.0);
      s0[k].assign(a.numElements(), 0.0f);
      s1[k].assign(a.numElements(), 0.0f);
      sizes.push_back(a.numElements());
    }
    codegen::UpdateKernel kernel(c, sizes);
    for (int step = 1; step <= 5; ++step) {
      double sumsq = 0;
      codegen::UpdateKernel::Buffers buf;
      for (int k = 0; k < 3; ++k) {
        const HostArray &g = fx.get("g" + fx.at(step, k));
        grads[k].assign(g.f32(), g.f32() + g.numElements());
        for (float x : grads[k])
          sumsq += double(x) * x;
        buf.params.push_back(pf[k].data());
        buf.grads.push_back(grads[k].data());
        std::vector<float *> st{s0[k].data(), s1[k].data()};
        st.resize(states);
        buf.state.push_back(st);
      }
      CHECK(kernel.sumOfSquares(buf, &pool) == doctest::Approx(sumsq).epsilon(1e-12));
      kernel.clippedStep(buf, step, &pool);
      double scale = clipScale(c, sumsq);
      for (int k = 0; k < 3; ++k) {
        std::vector<double> g(grads[k].begin(), grads[k].end());
        std::vector<double *> st{ref0[k].data(), ref1[k].data()};
        st.resize(states);
        referenceStep(c, step, scale, p[k].data(), g.data(), st, static_cast<int64_t>(g.size()));
        const HostArray &want = fx.get("p" + fx.at(step, k));
        for (size_t i = 0; i < p[k].size(); ++i) {
          double w = want.f32()[i];
          CHECK_MESSAGE(close(p[k][i], w), "reference, step " << step << ", parameter " << k << "["
                                                              << i << "]: " << p[k][i]
                                                              << " vs torch " << w);
          CHECK_MESSAGE(close(pf[k][i], w), "kernel, step " << step << ", parameter " << k << "["
                                                            << i << "]: " << pf[k][i]
                                                            << " vs torch " << w);
        }
      }
    }
  }
}

TEST_CASE("the fused update kernel: the reference's values, the same at any thread count") {
  // Parameters of awkward sizes, large enough to be split across threads
  // and across the norm kernel's chunks.
  std::vector<int64_t> sizes{1, 17, 20000, 3, 40000};
  for (const char *name : {"sgd", "momentum", "rmsprop", "adam", "adamw"}) {
    INFO(name);
    OptimizerConfig c = configOf(name, {{"lr", 0.01}});
    c.clipNorm = 10;
    size_t states = c.stateNames().size();
    codegen::UpdateKernel kernel(c, sizes);
    std::vector<std::vector<float>> runs[2];
    for (int threads : {1, 2}) {
      runtime::ThreadPool pool(threads);
      std::vector<std::vector<float>> p, g, s0, s1;
      for (int64_t n : sizes) {
        Random rp(3, static_cast<uint64_t>(n));
        std::vector<float> pv(n), gv(n);
        for (int64_t i = 0; i < n; ++i) {
          pv[i] = static_cast<float>(rp.normal());
          gv[i] = static_cast<float>(rp.normal());
        }
        p.push_back(pv);
        g.push_back(gv);
        s0.emplace_back(n, 0.0f);
        s1.emplace_back(n, 0.0f);
      }
      std::vector<std::vector<double>> pd, r0, r1;
      for (size_t k = 0; k < sizes.size(); ++k) {
        pd.emplace_back(p[k].begin(), p[k].end());
        r0.emplace_back(sizes[k], 0.0);
        r1.emplace_back(sizes[k], 0.0);
      }
      for (int step = 1; step <= 3; ++step) {
        codegen::UpdateKernel::Buffers buf;
        double sumsq = 0;
        for (size_t k = 0; k < sizes.size(); ++k) {
          buf.params.push_back(p[k].data());
          buf.grads.push_back(g[k].data());
          std::vector<float *> st{s0[k].data(), s1[k].data()};
          st.resize(states);
          buf.state.push_back(st);
          for (float x : g[k])
            sumsq += double(x) * x;
        }
        double norm = kernel.clippedStep(buf, step, &pool);
        CHECK(norm == doctest::Approx(std::sqrt(sumsq)).epsilon(1e-12));
        for (size_t k = 0; k < sizes.size(); ++k) {
          std::vector<double> gd(g[k].begin(), g[k].end());
          std::vector<double *> st{r0[k].data(), r1[k].data()};
          st.resize(states);
          referenceStep(c, step, clipScale(c, sumsq), pd[k].data(), gd.data(), st, sizes[k]);
        }
      }
      int bad = 0;
      for (size_t k = 0; k < sizes.size(); ++k)
        for (int64_t i = 0; i < sizes[k]; ++i)
          bad += !close(p[k][i], pd[k][i]);
      CHECK(bad == 0);
      runs[threads - 1] = p;
    }
    CHECK(runs[0] == runs[1]); // bit for bit
  }
}
