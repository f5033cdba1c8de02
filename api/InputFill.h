//===- api/InputFill.h - Inputs drawn for checks and benchmarks -----------===//
//
// gradcheck, the differential tests and `gradc bench` need inputs nobody
// gave: f32 inputs are drawn normal(0, 1), int inputs uniformly over the
// positions they index, so that every indirect read stays in range.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Engine.h"

#include <functional>
#include <string>

namespace gradc::api {

/// The size of the axes an int input indexes: the smallest axis any
/// indirect read through it (or through a copy of it) addresses (2 where
/// none does).
int64_t indexRange(const ir::Graph &g, const ir::Value *input);

/// Draws a value for every input of `g` that `given` says has none, in
/// graph order, from (seed, kInputStream): f32 normal(0, 1), int uniform
/// over indexRange(); hands each to `set`.
void drawMissingInputs(const ir::Graph &g, uint64_t seed,
                       const std::function<bool(const std::string &)> &given,
                       const std::function<void(const ir::Op &, runtime::DTensor)> &set);

/// drawMissingInputs for the inputs an engine holds no value for.
void fillMissingInputs(runtime::Engine &in, uint64_t seed);

} // namespace gradc::api
