//===- codegen/Inlined.h - Values computed where they are read -------------===//
//
// Two kinds of value need neither a kernel nor storage of their own: their
// one kind of reader, an elementwise kernel, computes them at its own loop
// point instead.
//
//  - A *view*: a remap (a broadcast of a bias over a batch, a transpose, a
//    shift) every reader of which is elementwise. The reader reads the
//    remap's source through the remap's index map, as PyTorch's expand and
//    permute do.
//  - An elementwise op whose one use is an operand of an elementwise op of
//    its shape in the same region, its f32 value computed inside that
//    reader's loop: `z = x + 3*y` is one pass over memory, and so is a chain
//    of a batch norm's backward products. This is the simplest form of
//    elementwise fusion; a value read twice, or by a reduction, a GEMM or a
//    remap, is still stored.
//
// Remaps with indirect positions, outputs, the loss, metrics, gradients and
// state updates are always stored.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include <unordered_set>

namespace gradc::codegen {

/// The values of `g` computed by their readers (see the file comment).
std::unordered_set<const ir::Value *> findInlined(const ir::Graph &g);

} // namespace gradc::codegen
