//===- runtime/IdxIO.cpp - IDX files of the MNIST family ------------------===//
#include "runtime/IdxIO.h"

#include "runtime/AtomicFile.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace gradc::runtime {

namespace {

constexpr int kIdxMaxRank = 16;
constexpr int64_t kIdxMaxElements = int64_t(1) << 31;

uint32_t bigEndian32(const std::byte *p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

/// The element type and size of an IDX type code, or false.
bool typeOfCode(uint8_t code, ElemType &type) {
  switch (code) {
  case 0x08:
    type = ElemType::U8;
    return true;
  case 0x09:
    type = ElemType::I8;
    return true;
  case 0x0B:
    type = ElemType::I16;
    return true;
  case 0x0C:
    type = ElemType::I32;
    return true;
  case 0x0D:
    type = ElemType::F32;
    return true;
  case 0x0E:
    type = ElemType::F64;
    return true;
  default:
    return false;
  }
}

/// Inflates a gzip stream (several members allowed, as gzip writes them) in
/// pieces, refusing output beyond kIdxMaxInflated.
bool gunzip(std::span<const std::byte> in, std::vector<std::byte> &out, std::string &error) {
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
    error = "cannot initialise zlib";
    return false;
  }
  zs.next_in = reinterpret_cast<Bytef *>(const_cast<std::byte *>(in.data()));
  size_t fed = 0;
  out.clear();
  int rc = Z_OK;
  while (true) {
    if (zs.avail_in == 0 && fed < in.size()) {
      size_t piece = std::min<size_t>(in.size() - fed, size_t(1) << 30);
      zs.next_in = reinterpret_cast<Bytef *>(const_cast<std::byte *>(in.data() + fed));
      zs.avail_in = static_cast<uInt>(piece);
      fed += piece;
    }
    size_t have = out.size();
    if (have >= kIdxMaxInflated) {
      error = "inflates to more than " + std::to_string(kIdxMaxInflated) + " bytes";
      inflateEnd(&zs);
      return false;
    }
    size_t grow = std::max<size_t>(have, size_t(1) << 20);
    out.resize(std::min<uint64_t>(have + grow, kIdxMaxInflated));
    zs.next_out = reinterpret_cast<Bytef *>(out.data() + have);
    zs.avail_out = static_cast<uInt>(std::min<size_t>(out.size() - have, size_t(1) << 30));
    size_t before = zs.avail_out;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.resize(have + (before - zs.avail_out));
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0 && fed == in.size())
        break;
      // Another gzip member follows (files concatenated by cat).
      if (inflateReset(&zs) != Z_OK)
        break;
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && fed == in.size()) {
      error = "truncated gzip data";
      inflateEnd(&zs);
      return false;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      const char *msg = zs.msg; // zlib's messages are static strings
      error = std::string("corrupt gzip data (") + (msg ? msg : "?") + ")";
      inflateEnd(&zs);
      return false;
    }
  }
  inflateEnd(&zs);
  return true;
}

} // namespace

std::optional<HostArray> readIdxBytes(std::span<const std::byte> bytes, std::string_view name,
                                      std::string &error) {
  auto fail = [&](const std::string &why) -> std::optional<HostArray> {
    error = std::string(name) + ": " + why;
    return std::nullopt;
  };
  if (bytes.size() < 4)
    return fail("too short for an IDX header (" + std::to_string(bytes.size()) + " bytes)");
  if (bytes[0] != std::byte{0} || bytes[1] != std::byte{0})
    return fail("not an IDX file (it does not start with two zero bytes)");
  HostArray a;
  uint8_t code = static_cast<uint8_t>(bytes[2]);
  if (!typeOfCode(code, a.type)) {
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", code);
    return fail(std::string("unknown IDX element type ") + hex);
  }
  int rank = static_cast<int>(bytes[3]);
  if (rank > kIdxMaxRank)
    return fail(std::to_string(rank) + " dimensions (at most " + std::to_string(kIdxMaxRank) +
                " are read)");
  size_t offset = 4 + 4 * static_cast<size_t>(rank);
  if (bytes.size() < offset)
    return fail("truncated header (" + std::to_string(rank) + " dimensions need " +
                std::to_string(offset) + " bytes, the file has " + std::to_string(bytes.size()) +
                ")");
  int64_t count = 1;
  for (int d = 0; d < rank; ++d) {
    int64_t n = bigEndian32(bytes.data() + 4 + 4 * d);
    a.shape.push_back(n);
    if (n != 0 && count > kIdxMaxElements / n)
      return fail("more than " + std::to_string(kIdxMaxElements) + " elements");
    count *= n;
  }
  size_t size = elemSize(a.type);
  uint64_t expected = static_cast<uint64_t>(count) * size;
  uint64_t found = bytes.size() - offset;
  if (found != expected)
    return fail(std::string(found < expected ? "truncated data" : "trailing bytes after the data") +
                " (" + a.typeStr() + " needs " + std::to_string(expected) + " bytes, found " +
                std::to_string(found) + ")");
  a.bytes.resize(expected);
  // Elements are big-endian: reverse each element's bytes (x86 is little-endian).
  const std::byte *src = bytes.data() + offset;
  for (uint64_t i = 0; i < expected; i += size)
    for (size_t k = 0; k < size; ++k)
      a.bytes[i + k] = src[i + size - 1 - k];
  return a;
}

std::optional<HostArray> readIdx(const std::string &path, std::string &error) {
  error.clear();
  std::vector<std::byte> raw;
  if (!readWholeFile(path, kIdxMaxInflated, raw, error))
    return std::nullopt;
  if (raw.size() >= 2 && raw[0] == std::byte{0x1f} && raw[1] == std::byte{0x8b}) {
    std::vector<std::byte> inflated;
    if (!gunzip(raw, inflated, error)) {
      error = path + ": " + error;
      return std::nullopt;
    }
    raw = std::move(inflated);
  }
  return readIdxBytes(raw, path, error);
}

} // namespace gradc::runtime
