//===- runtime/Initializers.cpp - Initial params, state and noise ---------===//
#include "runtime/Initializers.h"

#include "support/Assert.h"

#include <cmath>

namespace gradc::runtime {

using ir::InitSpec;

static bool isRandomKind(InitSpec::Kind k) {
  return k == InitSpec::Normal || k == InitSpec::Uniform || k == InitSpec::He ||
         k == InitSpec::Lecun || k == InitSpec::Xavier;
}

uint64_t drawsFor(const InitSpec &spec, int64_t n) {
  return isRandomKind(spec.kind) ? static_cast<uint64_t>(n) : 0;
}

double normalStddev(const InitSpec &spec) {
  switch (spec.kind) {
  case InitSpec::Normal:
    return spec.a;
  case InitSpec::He:
    GRADC_ASSERT(spec.fanIn > 0, "he() without a fan-in");
    return std::sqrt(2.0 / double(spec.fanIn));
  case InitSpec::Lecun:
    GRADC_ASSERT(spec.fanIn > 0, "lecun() without a fan-in");
    return std::sqrt(1.0 / double(spec.fanIn));
  case InitSpec::Xavier:
    GRADC_ASSERT(spec.fanIn + spec.fanOut > 0, "xavier() without fans");
    return std::sqrt(2.0 / double(spec.fanIn + spec.fanOut));
  default:
    GRADC_UNREACHABLE("normalStddev of a non-normal initializer " + spec.str());
  }
}

/// The one definition of every kind's values; both buffer types go through it.
template <class T> static void fillImpl(const InitSpec &spec, Random &gen, T *out, int64_t n) {
  switch (spec.kind) {
  case InitSpec::Zeros:
  case InitSpec::Ones:
  case InitSpec::Constant: {
    double v = spec.kind == InitSpec::Zeros ? 0.0 : spec.kind == InitSpec::Ones ? 1.0 : spec.a;
    for (int64_t i = 0; i < n; ++i)
      out[i] = static_cast<T>(v);
    return;
  }
  case InitSpec::Uniform:
    for (int64_t i = 0; i < n; ++i)
      out[i] = static_cast<T>(spec.a + (spec.b - spec.a) * gen.uniform());
    return;
  case InitSpec::Normal:
  case InitSpec::He:
  case InitSpec::Lecun:
  case InitSpec::Xavier: {
    double sd = normalStddev(spec);
    for (int64_t i = 0; i < n; ++i)
      out[i] = static_cast<T>(sd * gen.normal());
    return;
  }
  case InitSpec::None:
    break;
  }
  // Every param, state and noise declaration carries an initializer, so a
  // leaf without one is a front-end bug.
  GRADC_UNREACHABLE("filling a leaf that has no initializer");
}

void fillInit(const InitSpec &spec, Random &gen, double *out, int64_t n) {
  fillImpl(spec, gen, out, n);
}

void fillInit(const InitSpec &spec, Random &gen, float *out, int64_t n) {
  fillImpl(spec, gen, out, n);
}

/// Fills the leaves of the given kinds in top-region order from one stream.
static void drawLeaves(const ir::Graph &g, Random gen, std::initializer_list<ir::OpKind> kinds,
                       const LeafSink &sink) {
  for (const auto &op : g.top.ops) {
    bool wanted = false;
    for (ir::OpKind k : kinds)
      wanted |= op->kind == k;
    if (!wanted)
      continue;
    std::vector<double> values(op->result()->type.numElements());
    fillInit(op->init, gen, values.data(), static_cast<int64_t>(values.size()));
    sink(*op, std::move(values));
  }
}

void initializeLeaves(const ir::Graph &g, uint64_t seed, const LeafSink &sink) {
  drawLeaves(g, Random(seed, kParamStream), {ir::OpKind::Param, ir::OpKind::State}, sink);
}

void drawNoise(const ir::Graph &g, uint64_t seed, uint64_t call, const LeafSink &sink) {
  drawLeaves(g, Random(seed, noiseStream(call)), {ir::OpKind::Noise}, sink);
}

} // namespace gradc::runtime
