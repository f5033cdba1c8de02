//===- frontend/CompileModel.h - Source file to a resolved model ----------===//
//
// The front half of every command: load the program and its imports, pick
// the model, and run semantic analysis. Owns everything the diagnostics and
// the later stages point into.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/ModuleLoader.h"
#include "frontend/Sema.h"

#include <memory>
#include <string>

namespace gradc {

struct FrontendOptions {
  std::string modelName;                 ///< --model; empty: the first model
  std::map<std::string, int64_t> dims;   ///< -D NAME=VALUE
  bool warnings = true;
};

struct FrontendResult {
  LoadedProgram program;
  const ast::ModelDef *astModel = nullptr;
  std::unique_ptr<sema::Model> model;
};

/// Loads `path` (or `text` when given) and analyzes the selected model.
/// Throws UserError (reported) or sema::UsageError.
FrontendResult runFrontend(const std::string &path, const std::string *text,
                           const FrontendOptions &opts, SourceManager &sm,
                           DiagnosticEngine &diags);

} // namespace gradc
