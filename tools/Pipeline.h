//===- tools/Pipeline.h - From a resolved model to the graph a command runs -===//
#pragma once

#include "frontend/Model.h"
#include "ir/Graph.h"
#include "support/Diagnostics.h"

#include <memory>

namespace gradc::tool {

enum class GraphKind {
  Eval,     ///< the evaluation graph (training = 0)
  Train,    ///< the training graph (training = 1)
  Gradient, ///< the training graph with its backward pass
};

/// Lowers the model, differentiates it for Gradient (with respect to the
/// parameters and, when `inputs`, the f32 inputs), cleans up and verifies.
std::unique_ptr<ir::Graph> buildGraph(const sema::Model &model, GraphKind kind,
                                      DiagnosticEngine &diags, bool inputs = true);

} // namespace gradc::tool
