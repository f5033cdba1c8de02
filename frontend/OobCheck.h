//===- frontend/OobCheck.h - Listing out-of-bounds (zero-padded) reads ----===//
#pragma once

#include "frontend/Model.h"
#include "support/Diagnostics.h"

namespace gradc {

/// Warns at every affine read that can fall outside its tensor (and so reads
/// zeros): `gradc check --warn-oob`. Returns the number of such reads.
int warnOutOfBoundsReads(const sema::Model &model, DiagnosticEngine &diags);

} // namespace gradc
