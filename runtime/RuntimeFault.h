//===- runtime/RuntimeFault.h - Data-dependent run-time errors --*- C++ -*-===//
//
// The only errors a checked program can still hit are data-dependent (an
// out-of-range token id). They are the user's (exit status 1), not gradc's,
// and are reported at the equation they occur in, so the fault carries the
// source location of the op that found it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "support/SourceManager.h"

#include <stdexcept>
#include <string>

namespace gradc::runtime {

/// A run-time error caused by the data a model was given.
struct RuntimeFault : std::runtime_error {
  RuntimeFault(SourceLoc loc, const std::string &msg) : std::runtime_error(msg), loc(loc) {}
  SourceLoc loc; ///< the equation (op) that faulted
};

} // namespace gradc::runtime
