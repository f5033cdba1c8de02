//===- support/Diagnostics.h - User-facing errors and warnings -------------===//
//
// Every problem in a user's file is reported here as
//   FILE:LINE:COL: error: MESSAGE
//   <the source line>
//       ^
// followed by `note:` lines at the other places involved. A phase that cannot
// go on after an error throws UserError (after reporting it); the driver
// catches it and exits with status 1.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "support/SourceManager.h"

#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace gradc {

enum class Severity { Error, Warning, Note };

struct Diagnostic {
  Severity severity;
  SourceLoc loc;
  std::string message;
};

/// Thrown after an error has been reported, to abandon the current phase.
struct UserError : std::runtime_error {
  UserError() : std::runtime_error("user error (already reported)") {}
};

class DiagnosticEngine {
public:
  explicit DiagnosticEngine(const SourceManager &sm, std::ostream *out = nullptr)
      : sm_(sm), out_(out) {}

  /// Reports an error; the notes of the current inlining context follow it.
  void error(SourceLoc loc, const std::string &msg);
  void warning(SourceLoc loc, const std::string &msg);
  /// A note attached to the diagnostic reported just before.
  void note(SourceLoc loc, const std::string &msg);
  /// An error at a file as a whole (no line): "FILE: error: MESSAGE".
  void fileError(const std::string &path, const std::string &msg);

  /// Reports an error, then throws UserError.
  [[noreturn]] void fatal(SourceLoc loc, const std::string &msg);

  /// While a def call is being inlined, errors inside it get a note at the call.
  void pushContext(SourceLoc callLoc, std::string what);
  void popContext();

  bool hasErrors() const { return errorCount_ > 0; }
  unsigned errorCount() const { return errorCount_; }
  const std::vector<Diagnostic> &all() const { return diags_; }
  /// Stops printing warnings (still recorded).
  void setWarningsEnabled(bool on) { warningsOn_ = on; }

  /// Renders one diagnostic with its source line and caret.
  std::string render(const Diagnostic &d) const;

private:
  void emit(Severity s, SourceLoc loc, const std::string &msg);

  const SourceManager &sm_;
  std::ostream *out_;
  std::vector<Diagnostic> diags_;
  std::vector<std::pair<SourceLoc, std::string>> context_;
  unsigned errorCount_ = 0;
  bool warningsOn_ = true;
};

/// RAII for DiagnosticEngine::pushContext.
class DiagContextScope {
public:
  DiagContextScope(DiagnosticEngine &d, SourceLoc loc, std::string what) : d_(d) {
    d_.pushContext(loc, std::move(what));
  }
  ~DiagContextScope() { d_.popContext(); }
  DiagContextScope(const DiagContextScope &) = delete;
  DiagContextScope &operator=(const DiagContextScope &) = delete;

private:
  DiagnosticEngine &d_;
};

} // namespace gradc
