//===- ir/DotWriter.h - The graph as Graphviz DOT -------------------------===//
//
// One node per op, labelled with its result names, mnemonic and type, and an
// edge from each operand's producer. Forward and backward (autodiff) ops are
// filled in two colours; leaves have their own shapes (inputs, params, state,
// noise, constants); each recurrence is a cluster holding its body, and each
// kernel given in the options (the fusion pass's groups) is a cluster too.
// A legend explains colours and shapes. `dot -Tsvg` renders the output.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include <string>
#include <vector>

namespace gradc::ir {

struct DotOptions {
  /// Groups of ops drawn as clusters, e.g. the kernels of elementwise
  /// fusion. An op in several groups is drawn in the first. A group whose
  /// ops lie in different regions is drawn as one cluster per region.
  std::vector<std::vector<const Op *>> kernels;
  /// Cluster labels for `kernels`, by position; "kernel N" where missing.
  std::vector<std::string> kernelNames;
};

/// The graph in DOT syntax.
std::string writeDot(const Graph &g, const DotOptions &opts = {});

} // namespace gradc::ir
