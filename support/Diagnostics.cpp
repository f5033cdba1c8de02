//===- support/Diagnostics.cpp - User-facing errors and warnings -----------===//
#include "support/Diagnostics.h"

#include <iostream>

namespace gradc {

static const char *severityName(Severity s) {
  switch (s) {
  case Severity::Error:
    return "error";
  case Severity::Warning:
    return "warning";
  case Severity::Note:
    return "note";
  }
  return "error";
}

std::string DiagnosticEngine::render(const Diagnostic &d) const {
  std::string s;
  if (d.loc.valid())
    s += sm_.describe(d.loc) + ": ";
  s += severityName(d.severity);
  s += ": " + d.message + "\n";
  if (!d.loc.valid())
    return s;
  std::string_view line = sm_.lineText(d.loc.file, d.loc.line);
  s += std::string(line) + "\n";
  // The caret goes under the col-th character; tabs are kept so that the
  // caret lines up in a terminal.
  uint32_t chars = 0;
  std::string pad;
  for (size_t i = 0; i < line.size() && chars + 1 < d.loc.col; ++i) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    if ((c & 0xC0) == 0x80)
      continue; // continuation byte of a UTF-8 sequence
    pad += (c == '\t') ? '\t' : ' ';
    ++chars;
  }
  while (chars + 1 < d.loc.col) { // a column past the end of the line
    pad += ' ';
    ++chars;
  }
  s += pad + "^\n";
  return s;
}

void DiagnosticEngine::emit(Severity sev, SourceLoc loc, const std::string &msg) {
  diags_.push_back({sev, loc, msg});
  if (sev == Severity::Warning && !warningsOn_)
    return;
  if (out_)
    *out_ << render(diags_.back());
}

void DiagnosticEngine::error(SourceLoc loc, const std::string &msg) {
  ++errorCount_;
  emit(Severity::Error, loc, msg);
  for (auto it = context_.rbegin(); it != context_.rend(); ++it)
    emit(Severity::Note, it->first, it->second);
}

void DiagnosticEngine::warning(SourceLoc loc, const std::string &msg) {
  emit(Severity::Warning, loc, msg);
  if (!warningsOn_)
    return;
  for (auto it = context_.rbegin(); it != context_.rend(); ++it)
    emit(Severity::Note, it->first, it->second);
}

void DiagnosticEngine::note(SourceLoc loc, const std::string &msg) {
  emit(Severity::Note, loc, msg);
}

void DiagnosticEngine::fileError(const std::string &path, const std::string &msg) {
  ++errorCount_;
  diags_.push_back({Severity::Error, SourceLoc{}, path + ": " + msg});
  if (out_)
    *out_ << path << ": error: " << msg << "\n";
}

void DiagnosticEngine::fatal(SourceLoc loc, const std::string &msg) {
  error(loc, msg);
  throw UserError();
}

void DiagnosticEngine::pushContext(SourceLoc callLoc, std::string what) {
  context_.emplace_back(callLoc, std::move(what));
}

void DiagnosticEngine::popContext() {
  if (!context_.empty())
    context_.pop_back();
}

} // namespace gradc
