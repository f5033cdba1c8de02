//===- api/Pipeline.cpp - From a resolved model to the graph a command runs -===//
#include "api/Pipeline.h"

#include "frontend/Lowering.h"
#include "ir/Verifier.h"
#include "passes/Autodiff.h"
#include "passes/ComposeRemaps.h"
#include "passes/DeadCode.h"
#include "passes/PackContractions.h"
#include "passes/ReductionForms.h"
#include "passes/Remat.h"
#include "passes/Simplify.h"
#include "passes/Stabilize.h"
#include "support/Assert.h"
#include "support/Diagnostics.h"

namespace gradc::api {

static void verifyOrDie(const ir::Graph &g, const char *stage) {
  std::vector<std::string> problems = ir::verifyGraph(g);
  if (problems.empty())
    return;
  std::string msg = std::string("the IR after ") + stage + " is malformed:";
  for (size_t i = 0; i < problems.size() && i < 10; ++i)
    msg += "\n  " + problems[i];
  throw InternalError(msg);
}

/// Removes dead code, folds constant conditions and merges repeated ops,
/// then removes what nothing uses any more.
static void simplifyGraph(ir::Graph &g, const char *stage, bool gathers = false) {
  // Dead ops first: a value nothing reads must not come back to life as the
  // one a later copy of it is merged into.
  passes::eliminateDeadCode(g);
  passes::SimplifyStats s = passes::simplify(g, gathers);
  if (s.folded + s.merged + s.gathers == 0)
    return;
  passes::eliminateDeadCode(g);
  verifyOrDie(g, stage);
}

/// Checkpointing (with --remat), autodiff and clean-up of a lowered graph.
static void differentiateGraph(ir::Graph &graph, DiagnosticEngine &diags, const BuildOptions &opts);

std::unique_ptr<ir::Graph> buildGraph(const sema::Model &model, GraphKind kind,
                                      DiagnosticEngine &diags, BuildOptions opts) {
  std::unique_ptr<ir::Graph> g = lowerModel(model, kind != GraphKind::Eval);
  verifyOrDie(*g, "lowering");
  if (passes::stabilize(*g) > 0) {
    passes::eliminateDeadCode(*g);
    verifyOrDie(*g, "stabilization");
  }
  // The evaluation and training graphs stay as lowered unless asked to be
  // optimized (`gradc compile --emit=ir` shows the equations one to one); a
  // gradient graph is simplified first, so `where(training, ...)` leaves no
  // masks in its backward pass.
  if (kind == GraphKind::Gradient || opts.optimize)
    simplifyGraph(*g, "simplification");
  if (kind == GraphKind::Gradient) {
    if (!g->loss.value)
      diags.fatal(model.loc, "model '" + model.name +
                                 "' minimizes nothing: add 'minimize NAME' to take gradients");
    differentiateGraph(*g, diags, opts);
  }
  if (opts.optimize) {
    // The copies packing replaced are left for simplifyGraph's dead-code pass.
    if (passes::packContractions(*g, opts.packMinFlops) > 0)
      verifyOrDie(*g, "contraction packing");
    if (passes::formReductions(*g) > 0)
      verifyOrDie(*g, "reduction forms");
    simplifyGraph(*g, "simplification for native code", /*gathers=*/true);
  }
  return g;
}

static void differentiateGraph(ir::Graph &graph, DiagnosticEngine &diags,
                               const BuildOptions &opts) {
  ir::Graph *g = &graph;
  if (opts.remat) {
    // Reads of a recurrence's last step name that step alone, and a tensor
    // nothing reads needs no storage.
    passes::composeRemaps(*g);
    passes::eliminateDeadCode(*g);
    for (const passes::RematReport &r : passes::segmentRecurrences(*g))
      if (!r.segmented)
        diags.warning(r.loc, "--remat keeps every step of this recurrence: " + r.reason);
    verifyOrDie(*g, "checkpointing (--remat)");
  }
  passes::AutodiffOptions o;
  o.inputs = opts.inputs;
  passes::differentiate(*g, o);
  verifyOrDie(*g, "autodiff");
  simplifyGraph(*g, "simplification of the backward pass"); // removes dead code first
}

} // namespace gradc::api
