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

/// An array given on the command line, with the file it came from.
struct NamedArray {
  std::string name;
  runtime::HostArray array;
  std::string source; ///< the file, for error messages
};

/// Reads the arrays of --inputs FILE.npz and --in NAME=FILE.npy; a name
/// given twice or a malformed --in is bad usage (sema::UsageError).
std::vector<NamedArray> readNamedArrays(const std::string &inputsNpz,
                                        const std::vector<std::string> &ins);

/// Loads --params (params and state), --inputs and --in arrays into `in`.
void loadUserArrays(runtime::Engine &in, const ir::Graph &g, const std::string &params,
                    const std::string &inputsNpz, const std::vector<std::string> &ins);

} // namespace gradc::tool
