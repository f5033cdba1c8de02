//===- runtime/AtomicFile.cpp - File reads and atomic writes --------------===//

#include "runtime/AtomicFile.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace gradc::runtime {

namespace {

/// Larger single reads and writes gain nothing and some kernels cap them.
constexpr size_t kChunk = size_t(1) << 30;

std::string sysError(const std::string &what) { return what + ": " + std::strerror(errno); }

} // namespace

InputFile::~InputFile() {
  if (fd >= 0)
    ::close(fd);
}

bool InputFile::open(const std::string &p, std::string &error) {
  path = p;
  fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    error = sysError(path + ": cannot open");
    return false;
  }
  // A directory opens fine and then fails every read with EISDIR.
  if (!S_ISREG(st.st_mode)) {
    error = path + ": not a regular file";
    return false;
  }
  fileSize = static_cast<uint64_t>(st.st_size);
  return true;
}

bool readWholeFile(const std::string &path, uint64_t limit, std::vector<std::byte> &bytes,
                   std::string &error) {
  InputFile f;
  if (!f.open(path, error))
    return false;
  if (f.size() > limit) {
    error = path + ": larger than " + std::to_string(limit) + " bytes";
    return false;
  }
  bytes.resize(f.size());
  return f.readAt(0, bytes.data(), bytes.size(), error);
}

bool InputFile::readAt(uint64_t offset, std::byte *out, size_t len, std::string &error) {
  while (len > 0) {
    ssize_t n = ::pread(fd, out, std::min(len, kChunk), off_t(offset));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      error = n == 0 ? path + ": file shrank while being read" : sysError(path + ": read failed");
      return false;
    }
    out += n, len -= size_t(n), offset += uint64_t(n);
  }
  return true;
}

AtomicFile::AtomicFile(std::string p)
    : path(std::move(p)), tmpPath(path + ".tmp." + std::to_string(::getpid())) {}

AtomicFile::~AtomicFile() {
  if (fd >= 0) {
    ::close(fd);
    ::unlink(tmpPath.c_str());
  }
}

bool AtomicFile::open(std::string &error) {
  // O_NOFOLLOW: a symlink planted at the temporary name must not redirect
  // the write elsewhere.
  fd = ::open(tmpPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0666);
  if (fd < 0)
    error = sysError(path + ": cannot create '" + tmpPath + "'");
  return fd >= 0;
}

bool AtomicFile::write(const void *data, size_t len, std::string &error) {
  auto *p = static_cast<const char *>(data);
  while (len > 0) {
    ssize_t n = ::write(fd, p, std::min(len, kChunk));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      error = sysError(path + ": write failed");
      return false;
    }
    p += n, len -= size_t(n);
  }
  return true;
}

bool AtomicFile::commit(std::string &error) {
  // fsync before rename: otherwise a crash could leave PATH naming a file
  // whose data never reached the disk.
  if (::fsync(fd) != 0) {
    error = sysError(path + ": fsync failed");
    return false;
  }
  int closing = fd;
  fd = -1;
  if (::close(closing) != 0 || ::rename(tmpPath.c_str(), path.c_str()) != 0) {
    error = sysError(path + ": cannot replace file");
    ::unlink(tmpPath.c_str());
    return false;
  }
  // Make the rename itself durable. Best effort: the new data is in place.
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  int dirFd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirFd >= 0) {
    ::fsync(dirFd);
    ::close(dirFd);
  }
  return true;
}

} // namespace gradc::runtime
