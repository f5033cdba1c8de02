//===- frontend/ModuleLoader.cpp - Loading a program and its imports ------===//
#include "frontend/ModuleLoader.h"

#include "frontend/Parser.h"
#include "frontend/StdLib.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <set>

namespace gradc {

namespace fs = std::filesystem;

/// The name under which the standard library is registered and imported.
static const char *const kStdName = "std";
static const char *const kStdPath = "<std>";

bool readSourceFile(const std::string &path, const std::string &shownAs, std::string &text,
                    std::string &error) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    error = "cannot open '" + shownAs + "': Is a directory";
    return false;
  }
  std::FILE *f = std::fopen(path.c_str(), "rb");
  if (!f) {
    error = "cannot open '" + shownAs + "': " + std::strerror(errno);
    return false;
  }
  text.clear();
  char buf[1 << 16];
  size_t n;
  // Read at most one byte past the limit, so that /dev/zero cannot hang us.
  while (text.size() <= kMaxSourceBytes && (n = std::fread(buf, 1, sizeof buf, f)) > 0)
    text.append(buf, n);
  bool failed = std::ferror(f);
  int savedErrno = errno;
  std::fclose(f);
  if (failed) {
    error = "cannot read '" + shownAs + "': " + std::strerror(savedErrno);
    return false;
  }
  if (text.size() > kMaxSourceBytes) {
    error = "'" + shownAs + "' is larger than 64 MiB, the limit for a source file";
    return false;
  }
  return true;
}

/// The identity of a file for "parsed once": its canonical path when it
/// exists, else its normalized path.
static std::string fileKey(const std::string &path) {
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(path, ec);
  return ec ? fs::path(path).lexically_normal().string() : canonical.string();
}

namespace {
/// Parses the main file, then the files it imports, breadth-first.
class Loader {
public:
  Loader(SourceManager &sm, DiagnosticEngine &diags) : sm_(sm), diags_(diags) {}

  LoadedProgram run(const std::string &name, std::string text) {
    seen_.insert(fileKey(name));
    uint32_t mainFile = sm_.addFile(name, std::move(text));
    auto main = parseModule(sm_.text(mainFile), mainFile, diags_);
    if (main->models.empty())
      diags_.fatal({mainFile, 1, 1}, "no model");
    enqueueImports(*main);
    program_.modules.push_back(std::move(main));
    while (!pending_.empty()) {
      PendingImport next = std::move(pending_.front());
      pending_.pop_front();
      load(next);
    }
    return std::move(program_);
  }

private:
  struct PendingImport {
    std::string path;    ///< resolved against the importing file's directory
    std::string written; ///< as written in the import
    SourceLoc loc;       ///< of the import's path string
  };

  void enqueueImports(const ast::Module &module) {
    fs::path dir = fs::path(sm_.path(module.file)).parent_path();
    for (const ast::Import &imp : module.imports) {
      bool isStd = imp.path == kStdName;
      std::string path = isStd ? kStdPath : (dir / imp.path).lexically_normal().string();
      if (seen_.insert(isStd ? path : fileKey(path)).second)
        pending_.push_back({path, imp.path, imp.loc});
    }
  }

  void load(const PendingImport &imp) {
    std::string text, error;
    if (imp.path == kStdPath)
      text = stdLibrarySource();
    else if (!readSourceFile(imp.path, imp.written, text, error))
      diags_.fatal(imp.loc, error);
    uint32_t file = sm_.addFile(imp.path, std::move(text));
    auto module = parseModule(sm_.text(file), file, diags_);
    enqueueImports(*module);
    program_.modules.push_back(std::move(module));
  }

  SourceManager &sm_;
  DiagnosticEngine &diags_;
  LoadedProgram program_;
  std::set<std::string> seen_; ///< fileKey of every file loaded or pending
  std::deque<PendingImport> pending_;
};
} // namespace

LoadedProgram loadProgramFromString(const std::string &name, const std::string &text,
                                    SourceManager &sm, DiagnosticEngine &diags) {
  return Loader(sm, diags).run(name, text);
}

LoadedProgram loadProgram(const std::string &path, SourceManager &sm, DiagnosticEngine &diags) {
  std::string text, error;
  if (!readSourceFile(path, path, text, error)) {
    diags.fileError(path, error);
    throw UserError();
  }
  return Loader(sm, diags).run(path, std::move(text));
}

} // namespace gradc
