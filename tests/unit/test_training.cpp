//===- tests/unit/test_training.cpp - Session::trainStep and checkpoints --===//
#include "gradc/gradc.h"

#include "TestFiles.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

using namespace gradc;

namespace {

/// Batch norm, dropout and a metric: every kind of state a step touches.
const char *kNet = R"(
import "std"
model net {
  dim B = 6, D = 5, H = 7, C = 3
  input x[B, D]
  input y[B] : int
  z1 = dense(x, H)
  a = batchnorm(z1)
  h = dropout(relu(a), 0.25)
  z = dense(h, C)
  loss = cross_entropy(z, y)
  metric acc = mean(b: argmax(c: z[b, c]) == y[b])
  minimize loss
}
)";

Options trainingOptions(bool interpreter = false) {
  Options o;
  o.cache = false;
  o.inputGradients = false;
  o.interpreter = interpreter;
  return o;
}

/// A fixed batch for step `k`.
void feedBatch(Session &s, int k) {
  std::mt19937 rng(100 + k);
  std::normal_distribution<float> n(0, 1);
  std::vector<float> x(30);
  for (float &v : x)
    v = n(rng);
  std::vector<int32_t> y(6);
  for (size_t i = 0; i < y.size(); ++i)
    y[i] = static_cast<int32_t>((i + k) % 3);
  s.setInput("x", Tensor::floats({6, 5}, x));
  s.setInput("y", Tensor::ints({6}, y));
}

OptimizerSettings adamClipped() {
  OptimizerSettings o;
  o.name = "adam";
  o.args = {{"lr", 0.01}};
  o.clipNorm = 0.5;
  return o;
}

/// Every parameter and state tensor of `s`, in order.
std::vector<Tensor> allParams(Session &s) {
  std::vector<Tensor> r;
  for (const std::string &name : s.paramNames())
    r.push_back(s.param(name));
  return r;
}

} // namespace

TEST_CASE("native training steps follow the interpreter's reference update") {
  auto native = Model::fromString(kNet, trainingOptions(), "net.grad");
  auto interp = Model::fromString(kNet, trainingOptions(true), "net.grad");
  Session a(native, 5), b(interp, 5);
  // Momentum, not Adam: Adam divides by sqrt(v), so a gradient that is 0 up
  // to rounding (the bias before batch norm) moves by ±lr in float32 and by
  // something else in double.
  OptimizerSettings o{"momentum", {{"lr", 0.1}}, 0.5};
  a.setOptimizer(o);
  b.setOptimizer(o);
  for (int k = 0; k < 4; ++k) {
    feedBatch(a, k);
    feedBatch(b, k);
    double la = a.trainStep(), lb = b.trainStep();
    CHECK(la == doctest::Approx(lb).epsilon(1e-4));
    CHECK(a.lastGradientNorm() == doctest::Approx(b.lastGradientNorm()).epsilon(1e-3));
  }
  CHECK(a.steps() == 4);
  CHECK(a.lastGradientNorm() > 0.5); // so clipping acted
  std::vector<Tensor> pa = allParams(a), pb = allParams(b);
  REQUIRE(pa.size() == pb.size());
  int moved = 0;
  for (size_t i = 0; i < pa.size(); ++i)
    for (size_t k = 0; k < pa[i].f32.size(); ++k) {
      CHECK(pa[i].f32[k] == doctest::Approx(pb[i].f32[k]).epsilon(1e-4).scale(1e-3));
      moved += pa[i].f32[k] != Session(native, 5).param(a.paramNames()[i]).f32[k];
    }
  CHECK(moved > 50);
}

TEST_CASE("the running statistics follow the update statements, and evaluation sees them") {
  auto model = Model::fromString(kNet, trainingOptions(), "net.grad");
  Session s(model, 1);
  feedBatch(s, 0);
  Tensor mean0 = s.param("a.running_mean");
  s.trainStep();
  Tensor mean1 = s.param("a.running_mean");
  bool changed = false;
  for (size_t i = 0; i < mean1.f32.size(); ++i)
    changed = changed || mean1.f32[i] != mean0.f32[i];
  CHECK(changed);
  // Evaluation after training steps uses the new parameters and statistics:
  // the same as a fresh session given them.
  s.trainStep();
  s.forward();
  Tensor loss = s.output("loss");
  Session fresh(model, 9);
  for (const std::string &name : s.paramNames())
    fresh.setParam(name, s.param(name));
  feedBatch(fresh, 0);
  fresh.forward();
  CHECK(fresh.output("loss").f32[0] == loss.f32[0]);
}

TEST_CASE("ridge regression trains to its closed form") {
  auto model = Model::fromFile(std::string(GRADC_MODELS_DIR) + "/ridge.grad", trainingOptions());
  const int N = 32, D = 8;
  const double lambda = 0.1;
  std::mt19937 rng(7);
  std::normal_distribution<float> n(0, 1);
  std::vector<float> X(N * D), y(N);
  for (float &v : X)
    v = n(rng);
  for (int i = 0; i < N; ++i)
    y[i] = 0.5f * X[i * D] - X[i * D + 3] + 0.3f + 0.1f * n(rng);
  Session s(model, 0);
  s.setInput("X", Tensor::floats({N, D}, X));
  s.setInput("y", Tensor::floats({N}, y));
  s.setOptimizer({"momentum", {{"lr", 0.05}, {"beta", 0.9}}, 0});
  for (int k = 0; k < 1500; ++k)
    s.trainStep();
  // (1/N)|y - Xw - c|² + λ|w|² is least at
  // [XᵀX + NλI, Xᵀ1; 1ᵀX, N] [w; c] = [Xᵀy; 1ᵀy]: (XᵀX + λ'I)⁻¹Xᵀy with
  // λ' = Nλ, and an unpenalized intercept.
  const int M = D + 1;
  std::vector<double> A(M * (M + 1), 0.0);
  auto at = [&](int r, int c) -> double & { return A[r * (M + 1) + c]; };
  for (int i = 0; i < N; ++i) {
    for (int r = 0; r < M; ++r) {
      double xr = r < D ? X[i * D + r] : 1.0;
      for (int c = 0; c < M; ++c)
        at(r, c) += xr * (c < D ? X[i * D + c] : 1.0);
      at(r, M) += xr * y[i];
    }
  }
  for (int r = 0; r < D; ++r)
    at(r, r) += N * lambda;
  for (int p = 0; p < M; ++p) // Gauss-Jordan; the matrix is positive definite
    for (int r = 0; r < M; ++r) {
      if (r == p)
        continue;
      double f = at(r, p) / at(p, p);
      for (int c = p; c <= M; ++c)
        at(r, c) -= f * at(p, c);
    }
  Tensor w = s.param("w"), c = s.param("c");
  for (int r = 0; r < D; ++r)
    CHECK(w.f32[r] == doctest::Approx(at(r, M) / at(r, r)).epsilon(1e-4).scale(1e-4));
  CHECK(c.f32[0] == doctest::Approx(at(D, M) / at(D, D)).epsilon(1e-4).scale(1e-4));
}

TEST_CASE("a run resumed from a checkpoint ends bit-identical to an uninterrupted one") {
  gradc::testutil::TempDir dir("resume");
  std::string path = dir.path("ckpt.safetensors");
  auto model = Model::fromString(kNet, trainingOptions(), "net.grad");
  Session whole(model, 3);
  whole.setOptimizer(adamClipped());
  for (int k = 0; k < 6; ++k) {
    feedBatch(whole, k);
    whole.trainStep();
  }
  Session first(model, 3);
  first.setOptimizer(adamClipped());
  for (int k = 0; k < 3; ++k) {
    feedBatch(first, k);
    first.trainStep();
  }
  first.saveCheckpoint(path, {{"epoch", "1"}});

  Session resumed(model, 3);
  resumed.setOptimizer(adamClipped());
  std::map<std::string, std::string> meta = resumed.loadCheckpoint(path);
  CHECK(meta["epoch"] == "1");
  CHECK(meta["step"] == "3");
  CHECK(resumed.steps() == 3);
  for (int k = 3; k < 6; ++k) {
    feedBatch(resumed, k);
    resumed.trainStep();
  }
  std::vector<Tensor> pw = allParams(whole), pr = allParams(resumed);
  for (size_t i = 0; i < pw.size(); ++i)
    CHECK(pw[i].f32 == pr[i].f32);

  // Without the optimizer state (a fresh Adam), the same steps end elsewhere.
  Session plain(model, 3);
  plain.setOptimizer(adamClipped());
  plain.loadParams(path);
  for (int k = 3; k < 6; ++k) {
    feedBatch(plain, k);
    plain.trainStep();
  }
  CHECK(allParams(plain)[0].f32 != pw[0].f32);
}

TEST_CASE("bad checkpoints are errors that leave the session as it was") {
  gradc::testutil::TempDir dir("badckpt");
  auto model = Model::fromString(kNet, trainingOptions(), "net.grad");
  Session s(model, 3);
  s.setOptimizer(adamClipped());
  feedBatch(s, 0);
  s.trainStep();
  std::string good = dir.path("good.safetensors");
  s.saveCheckpoint(good);

  Session t(model, 4);
  t.setOptimizer(adamClipped());
  std::vector<Tensor> before = allParams(t);
  auto unchanged = [&] {
    std::vector<Tensor> now = allParams(t);
    for (size_t i = 0; i < now.size(); ++i)
      CHECK(now[i].f32 == before[i].f32);
    CHECK(t.steps() == 0);
  };

  // Truncated.
  std::string cut = dir.path("cut.safetensors");
  std::filesystem::copy_file(good, cut);
  std::filesystem::resize_file(cut, std::filesystem::file_size(good) - 10);
  CHECK_THROWS_AS(t.loadCheckpoint(cut), Error);
  unchanged();

  // Another optimizer's state.
  Session m(model, 4);
  m.setOptimizer({"momentum", {{"lr", 0.1}}, 0});
  try {
    m.loadCheckpoint(good);
    FAIL("loaded adam's state into momentum");
  } catch (const Error &e) {
    CHECK(std::string(e.what()).find("trained with adam(") != std::string::npos);
    CHECK(std::string(e.what()).find("optimizer is momentum(") != std::string::npos);
  }

  // A parameter file is not a checkpoint; another model's checkpoint neither.
  std::string params = dir.path("p.safetensors");
  s.saveParams(params);
  CHECK_THROWS_WITH_AS(t.loadCheckpoint(params), doctest::Contains("not a gradc checkpoint"),
                       Error);
  auto other =
      Model::fromString(std::string(kNet).replace(std::string(kNet).find("net {"), 5, "other {"),
                        trainingOptions(), "other.grad");
  Session o(other, 0);
  CHECK_THROWS_WITH_AS(o.loadCheckpoint(good), doctest::Contains("model 'net'"), Error);
  unchanged();

  // gradc run --params reads the parameters of a checkpoint.
  Session r(model, 4);
  r.loadParams(good);
  CHECK(allParams(r)[0].f32 == allParams(s)[0].f32);
}

TEST_CASE("optimizer settings are checked") {
  auto model = Model::fromString(kNet, trainingOptions(), "net.grad");
  Session s(model, 0);
  CHECK(s.optimizerDescription() == "adam(lr = 0.001, beta1 = 0.9, beta2 = 0.999, eps = 1e-08)");
  CHECK_THROWS_WITH_AS(s.setOptimizer({"adagrad", {}, 0}), doctest::Contains("unknown optimizer"),
                       Error);
  CHECK_THROWS_WITH_AS(s.setOptimizer({"sgd", {{"beta", 0.9}}, 0}),
                       doctest::Contains("has no parameter 'beta'"), Error);
  CHECK_THROWS_AS(s.setOptimizer({"sgd", {{"lr", -1}}, 0}), Error);
  CHECK_THROWS_AS(s.setOptimizer({"adam", {{"beta1", 1.0}}, 0}), Error);
  CHECK_THROWS_AS(s.setOptimizer({"adam", {}, -2}), Error);
  CHECK_THROWS_AS(s.setLearningRate(0), Error);
  s.setLearningRate(0.5);
  CHECK(s.learningRate() == 0.5);
  CHECK(model->batchDim() == "B");
  CHECK(model->metricNames() == std::vector<std::string>{"acc"});
}

TEST_CASE("every course model's loss falls when it trains on a fixed synthetic batch") {
  // f32 inputs uniform in [0, 1) (the targets of a BCE loss must be), int
  // inputs uniform over the positions they index; the same batch every step,
  // so the loss must fall (a model with noise falls on average, hence means).
  std::vector<std::string> files;
  for (auto &e : std::filesystem::directory_iterator(GRADC_MODELS_DIR))
    if (e.path().extension() == ".grad")
      files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  REQUIRE(files.size() >= 10);
  for (const std::string &file : files) {
    CAPTURE(file);
    auto model = Model::fromFile(file, trainingOptions());
    Session s(model, 0);
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> u(0, 1);
    for (const TensorInfo &in : model->inputs())
      if (in.dtype == DType::F32) {
        Tensor t;
        t.shape = in.shape;
        for (int64_t i = 0; i < t.size(); ++i)
          t.f32.push_back(u(rng));
        s.setInput(in.name, std::move(t));
      }
    s.fillMissingInputs(3);
    s.setOptimizer({"adam", {{"lr", 0.01}}, 1.0});
    std::vector<double> losses;
    for (int k = 0; k < 40; ++k)
      losses.push_back(s.trainStep());
    double first = (losses[0] + losses[1] + losses[2] + losses[3] + losses[4]) / 5;
    double last = (losses[35] + losses[36] + losses[37] + losses[38] + losses[39]) / 5;
    MESSAGE(file << ": " << first << " -> " << last);
    CHECK(std::isfinite(last));
    CHECK(last < first - 0.02 * std::fabs(first)); // BCE heads on soft targets have a floor
  }
}

TEST_CASE("a gradient that is another parameter is read before either changes") {
  // d/dA sum(A·B) = B and d/dB = A: native code may keep these gradients in
  // the parameters' own buffers, and the update must not see half of it.
  const char *src = R"(
model pair {
  dim N = 5
  param A[N] = normal(1)
  param B[N] = normal(1)
  input x[N]
  loss = sum(i: A[i]*B[i]) + 0.5*sum(i: x[i]^2)
  minimize loss
}
)";
  for (bool interp : {false, true}) {
    CAPTURE(interp);
    auto model = Model::fromString(src, trainingOptions(interp), "pair.grad");
    Session s(model, 2);
    s.setInput("x", Tensor::floats({5}, {1, 2, 3, 4, 5}));
    s.setOptimizer({"sgd", {{"lr", 0.1}}, 0});
    Tensor a = s.param("A"), b = s.param("B");
    s.trainStep();
    Tensor a1 = s.param("A"), b1 = s.param("B");
    for (size_t i = 0; i < 5; ++i) {
      CHECK(a1.f32[i] == doctest::Approx(a.f32[i] - 0.1f * b.f32[i]).epsilon(1e-6));
      CHECK(b1.f32[i] == doctest::Approx(b.f32[i] - 0.1f * a.f32[i]).epsilon(1e-6));
    }
  }
}
