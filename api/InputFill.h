//===- api/InputFill.h - Inputs drawn for checks and benchmarks -----------===//
//
// gradcheck, the differential tests and `gradc bench` need inputs nobody
// gave: f32 inputs are drawn normal(0, 1), int inputs uniformly over the
// positions they index, so that every indirect read stays in range.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Engine.h"

namespace gradc::api {

/// The size of the axes an int input indexes: the smallest axis any
/// indirect read through it (or through a copy of it) addresses (2 where
/// none does).
int64_t indexRange(const ir::Graph &g, const ir::Value *input);

/// Gives every input of the engine's graph without a value one drawn from
/// (seed, kInputStream): f32 normal(0, 1), int uniform over indexRange().
void fillMissingInputs(runtime::Engine &in, uint64_t seed);

} // namespace gradc::api
