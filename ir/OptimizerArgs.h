//===- ir/OptimizerArgs.h - The arguments each optimizer rule takes --------===//
//
// LANGUAGE.md's `optimizer` statement, shared by the front end (which checks
// a model's statement) and the runtime (which checks the command line's and
// the API's settings), so that both accept the same arguments in the same
// positional order.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string>
#include <vector>

namespace gradc::ir {

/// The arguments of optimizer `name`, in positional order, or null for a
/// name that is not sgd, momentum, rmsprop, adam or adamw.
const std::vector<std::string> *optimizerArguments(const std::string &name);

} // namespace gradc::ir
