//===- passes/Autodiff.h - Reverse-mode differentiation of a graph --------===//
#pragma once

#include "ir/Graph.h"

namespace gradc::passes {

struct AutodiffOptions {
  /// Also differentiate with respect to f32 inputs (`gradc run --backward`,
  /// gradcheck); training needs parameters only.
  bool inputs = true;
};

/// Appends to `g` (a graph with a minimized scalar) the backward ops that
/// compute the gradient of the loss with respect to every parameter (and
/// f32 input), and lists them in g.gradients as "grad.NAME". Parameters the
/// loss does not depend on get a zero gradient.
void differentiate(ir::Graph &g, const AutodiffOptions &opts = {});

/// The bytes of forward values the backward pass reads, which must stay in
/// memory from the forward sweep to the backward one (leaves and constants,
/// which live anyway, are not counted).
int64_t savedBytes(const ir::Graph &g);

} // namespace gradc::passes
