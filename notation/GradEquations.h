//===- notation/GradEquations.h - The backward pass as equations ----------===//
//
// `gradc compile --emit=grad-eqs`: the backward graph printed as equations in
// the model's notation, each under the forward equation it differentiates,
// so that a student can hold it next to a hand derivation:
//
//   c[b, t, j] = f[b, t, j]*c[b, t-1, j] + ig[b, t, j]*g[b, t, j]   # lstm.grad:9
//     grad.ig[b,t,j] += grad.c[b,t,j]*g[b,t,j]
//     grad.c[b,t-1,j] += grad.c[b,t,j]*f[b,t,j]
//
// It is a display format, not the input language. Every line shows IR the
// backward pass computes; bookkeeping (zeroing a consumed slice of a
// backward loop's storage, zero initial values) is left out.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/Model.h"
#include "ir/Graph.h"
#include "notation/EqExpr.h"
#include "support/SourceManager.h"

#include <string>
#include <vector>

namespace gradc::notation {

/// The backward ops of `g` (a graph after autodiff and dead-code
/// elimination, lowered from `model`) as equations; every line ends in '\n'.
std::string printGradEquations(const ir::Graph &g, const sema::Model &model,
                               const SourceManager &sm);

/// The same equations as data, in printed order, for checks that evaluate
/// them: a line, or a backward loop and the items of its body.
struct GradItem {
  Line line; ///< when !loop
  bool loop = false;
  int64_t steps = 0;    ///< loop: steps
  bool reverse = false; ///< loop: runs from step steps-1 down to 0
  int depth = 0;        ///< loop: the level of its step variable (DVar::level)
  std::vector<GradItem> body;
};
std::vector<GradItem> gradEquations(const ir::Graph &g, const sema::Model &model,
                                    const SourceManager &sm);

} // namespace gradc::notation
