//===- ir/ContractShape.h - Shapes of contraction the backends special-case -===//
//
// One statement of the loop forms a contraction can take, shared by the
// passes that prepare contractions for them (passes/PackContractions.cpp,
// passes/ReductionForms.cpp) and the code generator that emits them, so the
// two cannot drift apart: keeping the result's innermost axis in vector
// registers (codegen/EmitDirect.cpp), and accumulating rows of the result
// (codegen/EmitMaps.cpp).
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

/// True when the loops tier computes a plain contraction with its sums
/// outside the result's innermost axis, accumulating whole rows of the
/// result: some factor reads the result's innermost variable at its own
/// innermost axis, as a plain index, and no factor's innermost axis moves
/// with a summed variable. The innermost loop then walks the factors and
/// the result contiguously (a sum over the leading axes of [b, x, y, c] into
/// [c]), where summing innermost would stride through them.
bool accumulatesRows(const Op &op);

} // namespace gradc::ir
