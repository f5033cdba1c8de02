//===- api/Pipeline.h - From a resolved model to the graph a command runs -===//
#pragma once

#include "frontend/Model.h"
#include "ir/Graph.h"
#include "support/Diagnostics.h"

#include <memory>

namespace gradc::api {

enum class GraphKind {
  Eval,     ///< the evaluation graph (training = 0)
  Train,    ///< the training graph (training = 1)
  Gradient, ///< the training graph with its backward pass
};

struct BuildOptions {
  /// Gradient: also with respect to the f32 inputs (training needs the
  /// parameters only).
  bool inputs = true;
  /// Gradient: checkpoint recurrences every √T steps (passes/Remat.h); a
  /// recurrence that cannot be checkpointed gets a warning saying why.
  bool remat = false;
  /// Rewrites for native code that keep the graph's meaning (passes/
  /// PackContractions.h: convolutions and transposed products into GEMM
  /// form), shown by `gradc compile --emit=opt`.
  bool optimize = false;
  /// The smallest contraction (multiply-adds) packing rewrites.
  int64_t packMinFlops = 1 << 16;
};

/// Lowers the model, differentiates it for Gradient, cleans up and verifies.
std::unique_ptr<ir::Graph> buildGraph(const sema::Model &model, GraphKind kind,
                                      DiagnosticEngine &diags, BuildOptions opts = {});

} // namespace gradc::api
