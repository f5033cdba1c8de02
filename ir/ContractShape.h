//===- ir/ContractShape.h - Shapes of contraction the backends special-case -===//
//
// One statement of when a contraction can keep its result's innermost axis
// in vector registers (codegen/EmitDirect.cpp), shared by the pass that
// prepares such contractions (passes/PackContractions.cpp) and the code
// generator that emits them, so the two cannot drift apart.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

namespace gradc::ir {

/// The largest innermost result axis the direct form keeps in registers.
constexpr int64_t kMaxVectorAxis = 64;

/// For a plain contraction of two factors (no output map, no step variables,
/// no indirect positions) whose result's innermost axis has 8..64 entries, a
/// multiple of 8: the factor that alone reads that axis's variable. -1 for
/// anything else.
int innermostVectorFactor(const Op &op);

} // namespace gradc::ir
