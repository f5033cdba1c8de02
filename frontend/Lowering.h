//===- frontend/Lowering.h - From a resolved model to the IR graph --------===//
#pragma once

#include "frontend/Model.h"
#include "ir/Graph.h"

#include <memory>

namespace gradc {

/// Lowers `model` to a forward graph in which the constant `training` is 1
/// (the training graph) or 0 (the evaluation graph).
std::unique_ptr<ir::Graph> lowerModel(const sema::Model &model, bool training);

} // namespace gradc
