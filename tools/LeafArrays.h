//===- tools/LeafArrays.h - Arrays from files into a graph's leaves -------===//
#pragma once

#include "ir/Graph.h"
#include "runtime/DataSource.h"
#include "runtime/Engine.h"
#include "runtime/HostArray.h"

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

/// An array given on the command line, named after the input it feeds,
/// with the file it came from (`file`) and, for IDX files and texts, what
/// fittedToInput() needs to fit it to the input (runtime/DataSource.h).
using NamedArray = runtime::DataColumn;

/// Reads the arrays of --inputs FILE.npz and --in NAME=FILE, where FILE is
/// an .npy, an IDX file (gzip'd or not) or text:FILE / text+K:FILE, as
/// `gradc train` reads them; a name given twice or a malformed --in is bad
/// usage (sema::UsageError).
std::vector<NamedArray> readNamedArrays(const std::string &inputsNpz,
                                        const std::vector<std::string> &ins);

/// The array `na` as input `name` of element type `type` and full shape
/// `shape` takes it: IDX and text data are fitted as training data is
/// (runtime/Examples.h: an IDX [N, 28, 28] feeds x[B, 784] with B = N,
/// uint8 scaled to [0, 1]; a text's windows feed tok[B, T]), and must hold
/// exactly B examples; anything else is returned as it is, to be checked
/// against the declared shape.
/// Takes `na.array` (moved out).
runtime::HostArray fittedToInput(NamedArray &na, runtime::ElemType type,
                                 const std::vector<int64_t> &shape);

/// Loads --params (params and state), --inputs and --in arrays into `in`.
void loadUserArrays(runtime::Engine &in, const ir::Graph &g, const std::string &params,
                    const std::string &inputsNpz, const std::vector<std::string> &ins);

} // namespace gradc::tool
