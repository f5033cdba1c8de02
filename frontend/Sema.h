//===- frontend/Sema.h - From syntax to a resolved model ------------------===//
//
// Semantic analysis of one model: dims and -D overrides, declarations, def
// calls inlined hygienically, index ranges solved, implicit summation made
// explicit, int/f32 typing, parameter fan-in. Every user error is reported
// through the DiagnosticEngine at its source location.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/AST.h"
#include "frontend/Model.h"
#include "support/Diagnostics.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace gradc::sema {

struct SemaOptions {
  /// -D NAME=VALUE overrides of dims with literal defaults.
  std::map<std::string, int64_t> dimOverrides;
};

/// Why an override was refused (exit status 2: bad usage, not a bad file).
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Finds the model to compile: `name`, or the only/first model of the main
/// module when empty. Throws UsageError for an unknown name.
const ast::ModelDef *selectModel(const std::vector<const ast::Module *> &modules,
                                 const std::string &name);

/// Analyzes `model`. Throws UserError after reporting; UsageError for a bad -D.
std::unique_ptr<Model> analyzeModel(const std::vector<const ast::Module *> &modules,
                                    const ast::ModelDef &model, SourceManager &sm,
                                    DiagnosticEngine &diags, const SemaOptions &opts);

} // namespace gradc::sema
