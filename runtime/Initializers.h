//===- runtime/Initializers.h - Initial params, state and noise -*- C++ -*-===//
//
// A seed reproduces a model's weights exactly: the param and state leaves of
// the graph's top region are filled in graph (declaration) order from one
// generator on stream kParamStream, each random element taking the next draw.
// Kinds that need no randomness (zeros, ones, constant) take no draws, so a
// bias never shifts the weights declared after it. Noise leaves of call c
// are drawn the same way from stream noiseStream(c) (runtime/Random.h).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "runtime/Random.h"

#include <functional>
#include <vector>

namespace gradc::runtime {

/// The number of draws `spec` takes to fill `n` elements: n for the random
/// kinds (normal, uniform, he, lecun, xavier), 0 for the others.
uint64_t drawsFor(const ir::InitSpec &spec, int64_t n);

/// The standard deviation of a normal-kind spec: normal(a) -> a,
/// he -> sqrt(2/fanIn), lecun -> sqrt(1/fanIn), xavier -> sqrt(2/(fanIn+fanOut)).
double normalStddev(const ir::InitSpec &spec);

/// Fills out[0..n) as `spec` says, drawing from `gen` (element i takes the
/// i-th next draw). A float buffer receives the double values rounded to
/// nearest, so float and double fills from one state agree to rounding.
void fillInit(const ir::InitSpec &spec, Random &gen, double *out, int64_t n);
void fillInit(const ir::InitSpec &spec, Random &gen, float *out, int64_t n);

/// Receives one leaf and its values (C order, as doubles).
using LeafSink = std::function<void(const ir::Op &leaf, std::vector<double> values)>;

/// Draws the initial values of every param and state leaf of g's top region,
/// in order, from one generator (seed, kParamStream), and hands each to
/// `sink`. A caller that has some values already (loaded from a file) ignores
/// those leaves: the others get the same values either way.
void initializeLeaves(const ir::Graph &g, uint64_t seed, const LeafSink &sink);

/// Draws the noise leaves of g's top region for call number `call`, in order,
/// from (seed, noiseStream(call)).
void drawNoise(const ir::Graph &g, uint64_t seed, uint64_t call, const LeafSink &sink);

} // namespace gradc::runtime
