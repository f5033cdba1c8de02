//===- frontend/CompileModel.cpp - Source file to a resolved model --------===//
#include "frontend/CompileModel.h"

namespace gradc {

FrontendResult runFrontend(const std::string &path, const std::string *text,
                           const FrontendOptions &opts, SourceManager &sm,
                           DiagnosticEngine &diags) {
  FrontendResult r;
  r.program = text ? loadProgramFromString(path, *text, sm, diags) : loadProgram(path, sm, diags);
  std::vector<const ast::Module *> mods;
  for (auto &m : r.program.modules)
    mods.push_back(m.get());
  r.astModel = sema::selectModel(mods, opts.modelName);
  if (!r.astModel)
    diags.fatal(SourceLoc{mods[0]->file, 1, 1}, "no model in this file");
  sema::SemaOptions so;
  so.dimOverrides = opts.dims;
  diags.setWarningsEnabled(opts.warnings);
  r.model = sema::analyzeModel(mods, *r.astModel, sm, diags, so);
  return r;
}

} // namespace gradc
