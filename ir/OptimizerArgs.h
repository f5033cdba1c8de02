//===- ir/OptimizerArgs.h - The arguments each optimizer rule takes --------===//
//
// LANGUAGE.md's `optimizer` statement, shared by the front end (which checks
// a model's statement) and the runtime (which checks the command line's and
// the API's settings), so that both accept the same arguments, in the same
// positional order and ranges.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string>
#include <vector>

namespace gradc::ir {

/// The arguments of optimizer `name`, in positional order, or null for a
/// name that is not sgd, momentum, rmsprop, adam or adamw.
const std::vector<std::string> *optimizerArguments(const std::string &name);

/// Why `value` is out of range for optimizer argument `arg` ("it must be
/// positive"), or null when it is in range: lr and eps positive, beta,
/// alpha, beta1 and beta2 in [0, 1), weight_decay at least 0, and none
/// infinite (a rule with such a value diverges or divides by zero).
const char *optimizerArgumentRange(const std::string &arg, double value);

} // namespace gradc::ir
