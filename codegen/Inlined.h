//===- codegen/Inlined.h - Values computed where they are read -------------===//
//
// Some values need neither a kernel nor storage of their own: their reader
// computes them at its own loop point instead.
//
//  - A *view*: a remap (a broadcast of a bias over a batch, a transpose, a
//    shift) every reader of which is elementwise. The reader reads the
//    remap's source through the remap's index map, as PyTorch's expand and
//    permute do.
//  - An elementwise op every reader of which is either an elementwise op of
//    its shape in the same region or a sum (a plain contraction in the
//    loops tier) that reads each of its elements once; its f32 value is
//    computed inside each reader's loop. `z = x + 3*y` is one pass over
//    memory, a batch norm's Σ (x - mu)^2 reads x rather than a stored
//    square, and its backward products are computed where they are summed.
//    A value with several readers is recomputed by each, so it is inlined
//    only while that costs a few vector ops per element (kMaxRecompute),
//    less than storing it and loading it back.
//
//  - An argmax whose one reader is a scatter that places along one axis
//    where the argmax points (the adjoint of a max: max pooling's). The
//    scatter computes the argmax of its group at each of its points.
//
// This is the simplest form of fusion: a value read by a GEMM, a
// convolution or a remap, or too costly to recompute, is still stored.
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
