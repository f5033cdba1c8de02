//===- support/SourceManager.h - Source files and locations ---------------===//
//
// Owns the text of every source file gradc reads (model files, imports, the
// built-in standard library) and maps locations to lines for diagnostics.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace gradc {

/// A position in a source file. Lines and columns count from 1; columns count
/// characters (Unicode code points), not bytes. line == 0 means "no location".
struct SourceLoc {
  uint32_t file = 0;
  uint32_t line = 0;
  uint32_t col = 0;
  bool valid() const { return line != 0; }
  bool operator==(const SourceLoc &o) const {
    return file == o.file && line == o.line && col == o.col;
  }
  bool operator!=(const SourceLoc &o) const { return !(*this == o); }
};

class SourceManager {
public:
  /// Registers a file's contents; returns its id (ids start at 1).
  uint32_t addFile(std::string path, std::string contents);
  const std::string &path(uint32_t file) const;
  const std::string &text(uint32_t file) const;
  /// The text of line `line` (1-based) of `file`, without its newline.
  std::string_view lineText(uint32_t file, uint32_t line) const;
  /// "path:line:col" for a location ("<unknown>" when invalid).
  std::string describe(SourceLoc loc) const;
  /// Finds a file id by path, or 0.
  uint32_t find(std::string_view path) const;

private:
  struct File {
    std::string path;
    std::string text;
    std::vector<size_t> lineStarts; // byte offset of each line
  };
  std::vector<File> files_;
};

} // namespace gradc
