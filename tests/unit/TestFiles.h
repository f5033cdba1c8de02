//===- tests/unit/TestFiles.h - Scratch files for file-format tests --------===//
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <unistd.h>

namespace gradc::testutil {

/// A directory of its own under the system's temporary directory, removed
/// with everything in it when the test ends.
struct TempDir {
  std::filesystem::path dir;
  explicit TempDir(const std::string &tag)
      : dir(std::filesystem::temp_directory_path() /
            ("gradc-" + tag + "-" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(dir);
  }
  ~TempDir() { std::filesystem::remove_all(dir); }
  std::string path(const std::string &name) const { return (dir / name).string(); }
  /// Writes `content` to file `name` in the directory; returns its path.
  std::string write(const std::string &name, const std::string &content) const {
    std::ofstream(path(name), std::ios::binary) << content;
    return path(name);
  }
};

inline bool contains(const std::string &s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

} // namespace gradc::testutil
