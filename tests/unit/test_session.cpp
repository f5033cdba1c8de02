//===- tests/unit/test_session.cpp - The C++ API and the code cache -------===//
#include "gradc/gradc.h"

#include "api/Pipeline.h"
#include "codegen/Jit.h"
#include "frontend/CompileModel.h"

#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <sstream>

using gradc::api::buildGraph;
using namespace gradc;

namespace {

const char *kModel = R"(
model tiny {
  dim B = 3, K = 4, V = 5
  input x[B, K]
  input tok[B] : int
  param W[K] = normal(1)
  param E[V, K] = normal(1)
  h[b, k] = tanh(W[k]*x[b, k] + E[tok[b], k])
  loss = mean(b: sum(k: h[b, k]^2))
  output h
  minimize loss
}
)";

std::string tempDir(const std::string &name) {
  auto p = std::filesystem::temp_directory_path() / ("gradc-test-" + name + "-" +
                                                     std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p.string();
}

gradc::Options noCache() {
  gradc::Options o;
  o.cache = false;
  return o;
}

void feed(gradc::Session &s) {
  s.setInput("x", gradc::Tensor::floats({3, 4}, {0.1f, -0.2f, 0.3f, 0.4f, 0.5f, -0.6f, 0.7f,
                                                 0.8f, -0.9f, 1.0f, 1.1f, 1.2f}));
  s.setInput("tok", gradc::Tensor::ints({3}, {4, 0, 2}));
}

} // namespace

TEST_CASE("a session's native results equal the interpreter's") {
  auto native = gradc::Model::fromString(kModel, noCache(), "tiny.grad");
  gradc::Options io = noCache();
  io.interpreter = true;
  auto interp = gradc::Model::fromString(kModel, io, "tiny.grad");
  gradc::Session a(native, 3), b(interp, 3);
  feed(a);
  feed(b);
  a.backward();
  b.backward();
  CHECK(a.output("loss").f32[0] == doctest::Approx(b.output("loss").f32[0]).epsilon(1e-5));
  for (const char *p : {"W", "E", "x"}) {
    gradc::Tensor ga = a.gradient(p), gb = b.gradient(p);
    REQUIRE(ga.f32.size() == gb.f32.size());
    for (size_t i = 0; i < ga.f32.size(); ++i)
      CHECK(ga.f32[i] == doctest::Approx(gb.f32[i]).epsilon(1e-4).scale(1e-3));
  }
  a.forward();
  CHECK(a.output("h").shape == std::vector<int64_t>{3, 4});
  CHECK(native->lossName() == "loss");
  CHECK(native->inputs().size() == 2);
  CHECK(native->params().size() == 2);
}

TEST_CASE("the session API reports what the caller got wrong") {
  CHECK_THROWS_WITH_AS(gradc::Model::fromString("model m {\n  dim B = \n}\n", noCache(), "bad.grad"),
                       doctest::Contains("bad.grad:2:11: error: expected an expression"), gradc::Error);
  auto m = gradc::Model::fromString(kModel, noCache(), "tiny.grad");
  gradc::Session s(m);
  CHECK_THROWS_WITH_AS(s.setInput("x", gradc::Tensor::floats({4, 3}, std::vector<float>(12))),
                       doctest::Contains("f32[3,4]"), gradc::Error);
  CHECK_THROWS_WITH_AS(s.setInput("nope", gradc::Tensor::floats({1}, {0})),
                       doctest::Contains("'nope'"), gradc::Error);
  CHECK_THROWS_AS(s.gradient("W"), gradc::Error);
  CHECK_THROWS_WITH_AS(s.backward(), doctest::Contains("input 'x' has no value"), gradc::Error);
  feed(s);
  // A token out of range stops the run with an error at the equation.
  s.setInput("tok", gradc::Tensor::ints({3}, {4, 5, 2}));
  CHECK_THROWS_WITH_AS(s.backward(), doctest::Contains("tiny.grad:8:"), gradc::Error);
}

TEST_CASE("parameters save and load as .npz and .safetensors") {
  std::string dir = tempDir("params");
  auto m = gradc::Model::fromString(kModel, noCache(), "tiny.grad");
  for (const char *file : {"/p.npz", "/p.safetensors"}) {
    INFO(file);
    gradc::Session a(m, 1), b(m, 2);
    CHECK(a.param("W").f32 != b.param("W").f32);
    a.saveParams(dir + file);
    b.loadParams(dir + file);
    CHECK(a.param("W").f32 == b.param("W").f32);
    CHECK(a.param("E").f32 == b.param("E").f32);
  }
  gradc::Session b(m, 2);
  CHECK_THROWS_AS(b.loadParams(dir + "/missing.npz"), gradc::Error);
  // A damaged .safetensors file: an error naming it, the parameters untouched.
  std::vector<float> before = b.param("W").f32;
  std::filesystem::resize_file(dir + "/p.safetensors", 40);
  CHECK_THROWS_WITH_AS(b.loadParams(dir + "/p.safetensors"),
                       doctest::Contains("p.safetensors: "), gradc::Error);
  CHECK(b.param("W").f32 == before);
  std::filesystem::remove_all(dir);
}

TEST_CASE("the code cache: a hit skips LLVM, a changed size misses") {
  std::string dir = tempDir("cache");
  auto graphFor = [](int64_t b, SourceManager &sm, FrontendResult &fr) {
    std::ostringstream os;
    DiagnosticEngine diags(sm, &os);
    FrontendOptions fo;
    fo.dims["B"] = b;
    std::string text = kModel;
    fr = runFrontend("tiny.grad", &text, fo, sm, diags);
    return buildGraph(*fr.model, api::GraphKind::Gradient, diags);
  };
  codegen::JitOptions jo;
  jo.cacheDir = dir;
  SourceManager sm1, sm2, sm3;
  FrontendResult f1, f2, f3;
  auto g1 = graphFor(3, sm1, f1), g2 = graphFor(3, sm2, f2), g3 = graphFor(4, sm3, f3);
  codegen::MemoryPlan p1(*g1), p2(*g2), p3(*g3);
  auto c1 = codegen::compileGraph(*g1, p1, jo);
  CHECK(!c1->fromCache);
  CHECK(c1->llvmMs > 0);
  auto c2 = codegen::compileGraph(*g2, p2, jo);
  CHECK(c2->fromCache);
  CHECK(c2->llvmMs == 0);
  CHECK(c2->kernels.size() == c1->kernels.size());
  auto c3 = codegen::compileGraph(*g3, p3, jo);
  CHECK(!c3->fromCache);
  jo.cache = false;
  auto c4 = codegen::compileGraph(*g1, p1, jo);
  CHECK(!c4->fromCache);
  std::filesystem::remove_all(dir);
}

TEST_CASE("compile, profile and drawn inputs through the session") {
  gradc::Options o = noCache();
  o.profile = true;
  auto m = gradc::Model::fromString(kModel, o, "tiny.grad");
  gradc::Session s(m, 1);
  gradc::CompileInfo info = s.compile(true);
  CHECK_FALSE(info.fromCache);
  CHECK(info.llvmMs > 0);
  CHECK(info.plannedBytes > 0);
  CHECK(info.threads >= 1);
  CHECK(s.profile(true).empty() == false); // compiled: every kernel listed, at 0 ms
  s.fillMissingInputs(7);
  s.backward();
  std::vector<gradc::KernelTime> p = s.profile(true);
  REQUIRE_FALSE(p.empty());
  for (size_t i = 1; i < p.size(); ++i)
    CHECK(p[i - 1].ms >= p[i].ms); // slowest first
  double total = 0;
  for (const gradc::KernelTime &k : p) {
    CHECK_FALSE(k.kind.empty());
    total += k.ms;
  }
  CHECK(total > 0);
  // The drawn tokens index E's 5 rows: the run did not fault, and the
  // gradients are the parameters' and the f32 input's.
  CHECK(s.gradientNames() == std::vector<std::string>{"x", "W", "E"});
  CHECK(s.profile(false).empty()); // the evaluation graph was never compiled
}

TEST_CASE("a session that differentiates with respect to the parameters only") {
  gradc::Options o = noCache();
  o.inputGradients = false;
  auto m = gradc::Model::fromString(kModel, o, "tiny.grad");
  gradc::Session s(m, 1);
  CHECK(s.gradientNames() == std::vector<std::string>{"W", "E"});
  s.fillMissingInputs(7);
  s.backward();
  gradc::Session full(gradc::Model::fromString(kModel, noCache(), "tiny.grad"), 1);
  full.fillMissingInputs(7);
  full.backward();
  // The same parameter gradients as a session that also computes x's.
  gradc::Tensor a = s.gradient("W"), b = full.gradient("W");
  REQUIRE(a.f32.size() == b.f32.size());
  for (size_t i = 0; i < a.f32.size(); ++i)
    CHECK(a.f32[i] == doctest::Approx(b.f32[i]).epsilon(1e-5));
  CHECK_THROWS_WITH_AS(s.gradient("x"), doctest::Contains("computes parameter gradients only"),
                       gradc::Error);
}

TEST_CASE("the training graph's forward pass, and errors of the session") {
  const char *bn = R"(
model drop {
  dim B = 4, K = 3
  input x[B, K]
  y = dropout(x, 0.5)
  output y
}
)";
  auto m = gradc::Model::fromString(std::string("import \"std\"\n") + bn, noCache(), "drop.grad");
  gradc::Session s(m, 2);
  s.setInput("x", gradc::Tensor::floats({4, 3}, std::vector<float>(12, 1.0f)));
  s.forward(); // evaluation: the identity
  for (float v : s.output("y").f32)
    CHECK(v == 1.0f);
  s.forward(/*trainingGraph=*/true); // dropout: 0 or 2
  int dropped = 0;
  for (float v : s.output("y").f32) {
    CHECK((v == 0.0f || v == 2.0f));
    dropped += v == 0.0f;
  }
  CHECK(dropped > 0);
  CHECK(m->noise().size() == 1);
  CHECK_THROWS_AS(s.backward(), gradc::Error); // minimizes nothing

  gradc::Options bad = noCache();
  bad.dims = {{"Q", 3}};
  CHECK_THROWS_AS(gradc::Model::fromString(kModel, bad, "tiny.grad"), gradc::UsageError);
  std::ostringstream warnings;
  gradc::Options w = noCache();
  w.warnings = &warnings;
  auto unused = gradc::Model::fromString(
      "model u {\n  input x[2]\n  param p[2] = zeros()\n  y[i] = x[i]\n  output y\n}\n", w, "u.grad");
  CHECK(warnings.str().find("warning") != std::string::npos);
}
