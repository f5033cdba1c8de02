//===- tools/LeafArrays.h - Arrays from files into a graph's leaves -------===//
#pragma once

#include "ir/Graph.h"
#include "runtime/HostArray.h"
#include "runtime/Engine.h"

#include <string>
#include <vector>

namespace gradc::tool {

/// Reports a problem with a data file ("gradc: error: ...") and throws
/// UserError (exit 1).
[[noreturn]] void dataError(const std::string &what);

/// Converts an array read from `source` into the leaf's type and shape
/// (float64 and int64 when their values fit), or reports why not.
runtime::DTensor toLeafValue(const runtime::HostArray &a, const ir::Op &leaf,
                             const std::string &source);

/// A value as the f32 (or i32) array gradc writes.
runtime::HostArray toHost(const runtime::DTensor &t);

/// Loads --params (params and state), --inputs and --in arrays into `in`.
void loadUserArrays(runtime::Engine &in, const ir::Graph &g, const std::string &params,
                    const std::string &inputsNpz, const std::vector<std::string> &ins);

} // namespace gradc::tool
