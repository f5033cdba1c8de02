//===- frontend/ModuleLoader.h - Loading a program and its imports --------===//
//
// Reads and parses the main file, then every file it imports, recursively:
// `import "std"` is the built-in standard library (registered as "<std>"),
// any other path is relative to the importing file's directory. Each file
// is parsed once, however often it is imported, so import cycles are fine.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/AST.h"
#include "support/Diagnostics.h"

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace gradc {

/// Source files larger than this are refused with an error.
inline constexpr size_t kMaxSourceBytes = size_t(64) << 20;

/// The parsed modules of a program.
struct LoadedProgram {
  /// The main file's module first, then the imported ones in the order they
  /// are first reached (breadth-first, each file's imports in source order).
  std::vector<std::unique_ptr<ast::Module>> modules;
};

/// Loads the program whose main file is `path`. Every problem is reported
/// through `diags` and then UserError is thrown: an unreadable main file (a
/// file error), a syntax error, a main file without a model ("no model" at
/// 1:1), an import that cannot be read (at the import's path).
LoadedProgram loadProgram(const std::string &path, SourceManager &sm, DiagnosticEngine &diags);

/// Like loadProgram, with the main file's text given. `name` is its path in
/// diagnostics and the base of its relative imports.
LoadedProgram loadProgramFromString(const std::string &name, const std::string &text,
                                    SourceManager &sm, DiagnosticEngine &diags);

/// Reads a whole source file (at most kMaxSourceBytes). On failure returns
/// false and sets `error` to a message naming the file as `shownAs`:
/// "cannot open 'x.grad': No such file or directory".
bool readSourceFile(const std::string &path, const std::string &shownAs, std::string &text,
                    std::string &error);

} // namespace gradc
