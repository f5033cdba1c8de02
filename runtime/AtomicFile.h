//===- runtime/AtomicFile.h - File reads and atomic writes ------*- C++ -*-===//
//
// gradc's output files (arrays, checkpoints) are replaced atomically, so that
// a reader, or a crash halfway through training, never sees half a file.
// Error messages name the path the user gave.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gradc::runtime {

/// A regular file opened for reading at known offsets.
class InputFile {
public:
  InputFile() = default;
  InputFile(const InputFile &) = delete;
  InputFile &operator=(const InputFile &) = delete;
  ~InputFile();

  /// Opens `path`; refuses directories and other non-regular files.
  bool open(const std::string &path, std::string &error);
  uint64_t size() const { return fileSize; }
  /// Reads exactly `len` bytes at `offset`; a short file is an error.
  bool readAt(uint64_t offset, std::byte *out, size_t len, std::string &error);

private:
  std::string path;
  int fd = -1;
  uint64_t fileSize = 0;
};

/// Reads the whole of `path` into `bytes`; a file of more than `limit`
/// bytes is refused ("PATH: larger than LIMIT bytes") before anything is
/// allocated.
bool readWholeFile(const std::string &path, uint64_t limit, std::vector<std::byte> &bytes,
                   std::string &error);

/// Writes PATH.tmp.<pid> beside PATH and renames it over PATH on commit().
/// Until then PATH is untouched; destroyed uncommitted (on any error), it
/// removes the temporary file.
class AtomicFile {
public:
  explicit AtomicFile(std::string path);
  AtomicFile(const AtomicFile &) = delete;
  AtomicFile &operator=(const AtomicFile &) = delete;
  ~AtomicFile();

  /// Creates the temporary file.
  bool open(std::string &error);
  /// Appends bytes; false with `error` set on failure.
  bool write(const void *data, size_t len, std::string &error);
  bool write(std::span<const std::byte> bytes, std::string &error) {
    return write(bytes.data(), bytes.size(), error);
  }
  bool write(std::string_view text, std::string &error) {
    return write(text.data(), text.size(), error);
  }
  /// Syncs the data to disk and renames the file into place.
  bool commit(std::string &error);

private:
  std::string path, tmpPath;
  int fd = -1;
};

} // namespace gradc::runtime
