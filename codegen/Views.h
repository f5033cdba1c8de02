//===- codegen/Views.h - Remaps read in place instead of copied ------------===//
//
// A remap is a layout change: a broadcast of a bias over a batch, a
// transpose, a shift. When every op that reads its result is elementwise,
// the copy is not needed: each of those kernels reads the remap's source
// through the remap's index map at its own loop point, as a strided view
// (PyTorch's expand and permute). Such a remap is a *view*: it gets no
// kernel and no storage. Remaps feeding anything else (a GEMM, a
// reduction, another remap, an output) stay copies.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include <unordered_set>

namespace gradc::codegen {

/// The results of the remaps of `g` that are views (see the file comment).
std::unordered_set<const ir::Value *> findViews(const ir::Graph &g);

} // namespace gradc::codegen
