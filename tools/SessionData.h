//===- tools/SessionData.h - Arrays from the command line into a session --===//
#pragma once

#include "gradc/gradc.h"
#include "tools/Commands.h"

#include <set>
#include <string>

namespace gradc::tool {

/// Sets the arrays of --inputs and --in as the session's inputs (or fixed
/// noise), converted as api::tensorFromArray does; returns the names set.
/// An array named after no input or noise of the model is an error.
std::set<std::string> setInputsFromFiles(Session &s, const Model &m, const DataOptions &d);

} // namespace gradc::tool
