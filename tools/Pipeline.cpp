//===- tools/Pipeline.cpp - From a resolved model to the graph a command runs -===//
#include "tools/Pipeline.h"

#include "frontend/Lowering.h"
#include "ir/Verifier.h"
#include "passes/Autodiff.h"
#include "passes/DeadCode.h"
#include "passes/Stabilize.h"
#include "support/Assert.h"
#include "support/Diagnostics.h"


namespace gradc::tool {

static void verifyOrDie(const ir::Graph &g, const char *stage) {
  std::vector<std::string> problems = ir::verifyGraph(g);
  if (problems.empty())
    return;
  std::string msg = std::string("the IR after ") + stage + " is malformed:";
  for (size_t i = 0; i < problems.size() && i < 10; ++i)
    msg += "\n  " + problems[i];
  throw InternalError(msg);
}

std::unique_ptr<ir::Graph> buildGraph(const sema::Model &model, GraphKind kind,
                                      DiagnosticEngine &diags, bool inputs) {
  std::unique_ptr<ir::Graph> g = lowerModel(model, kind != GraphKind::Eval);
  verifyOrDie(*g, "lowering");
  if (passes::stabilize(*g) > 0) {
    passes::eliminateDeadCode(*g);
    verifyOrDie(*g, "stabilization");
  }
  if (kind != GraphKind::Gradient)
    return g;
  if (!g->loss.value)
    diags.fatal(model.loc, "model '" + model.name +
                               "' minimizes nothing: add 'minimize NAME' to take gradients");
  passes::AutodiffOptions o;
  o.inputs = inputs;
  passes::differentiate(*g, o);
  verifyOrDie(*g, "autodiff");
  passes::eliminateDeadCode(*g);
  verifyOrDie(*g, "dead-code elimination");
  return g;
}

} // namespace gradc::tool
