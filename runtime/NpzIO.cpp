//===- runtime/NpzIO.cpp - NumPy .npz archives ----------------------------===//
//
// An .npz is a ZIP archive with one NAME.npy member per array: stored by
// np.savez, deflated by np.savez_compressed. The reader walks the central
// directory (the archive's table of contents, at its end) rather than
// scanning local headers, and bounds every offset and size by the archive
// before using it; the writer emits plain stored archives.
//
//===----------------------------------------------------------------------===//

#include "runtime/AtomicFile.h"
#include "runtime/NpyIO.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <set>

namespace gradc::runtime {

namespace {

uint16_t le16(const std::byte *p) { return uint16_t(p[0]) | uint16_t(uint16_t(p[1]) << 8); }
uint32_t le32(const std::byte *p) { return uint32_t(le16(p)) | (uint32_t(le16(p + 2)) << 16); }

constexpr uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50;
constexpr size_t kLocalLen = 30, kCentralLen = 46, kEndLen = 22;
constexpr uint64_t kZipLimit = 0xffffffff;
/// Deflate cannot expand data by more than about 1032:1; a directory entry
/// claiming more is lying, and believing it would allocate gigabytes.
constexpr uint64_t kMaxDeflateRatio = 1032;

/// Inflates a raw deflate stream (no zlib header, as ZIP stores it) into
/// exactly `out.size()` bytes.
bool inflateRaw(std::span<const std::byte> in, std::vector<std::byte> &out, std::string &error) {
  z_stream zs{};
  if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) {
    error = "cannot initialise zlib";
    return false;
  }
  // Sizes are below 4 GiB (ZIP64 is refused), so they fit zlib's uInt.
  zs.next_in = reinterpret_cast<Bytef *>(const_cast<std::byte *>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef *>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = inflate(&zs, Z_FINISH);
  uint64_t produced = zs.total_out;
  bool outputFull = zs.avail_out == 0;
  const char *msg = zs.msg; // zlib's messages are static strings
  inflateEnd(&zs);
  if (rc == Z_STREAM_END && produced == out.size())
    return true;
  if (rc == Z_DATA_ERROR)
    error = std::string("corrupt compressed data (") + (msg ? msg : "?") + ")";
  else if (rc == Z_BUF_ERROR && outputFull)
    error = "compressed data inflates to more than the " + std::to_string(out.size()) +
            " bytes its directory entry says";
  else if (rc == Z_STREAM_END)
    error = "compressed data inflates to " + std::to_string(produced) + " bytes, not the " +
            std::to_string(out.size()) + " its directory entry says";
  else
    error = "truncated compressed data";
  return false;
}

/// CRC-32 of `bytes` continuing from `crc`. zlib treats a null buffer as a
/// request for the initial value, which an empty vector's data() can be.
uint32_t crcOf(std::span<const std::byte> bytes, uint32_t crc) {
  if (bytes.empty())
    return crc;
  return uint32_t(crc32_z(crc, reinterpret_cast<const Bytef *>(bytes.data()), bytes.size()));
}

std::span<const std::byte> asBytes(std::string_view s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

/// The array name of member NAME.npy.
std::string keyOf(const std::string &member) {
  return member.ends_with(".npy") ? member.substr(0, member.size() - 4) : member;
}

/// One member as the central directory describes it.
struct ZipEntry {
  std::string name;
  uint16_t method = 0;
  uint32_t crc = 0;
  uint64_t compSize = 0, size = 0, localOffset = 0;
};

/// Finds the end-of-central-directory record: the last 22 bytes, or earlier
/// when the archive has a comment (at most 64 KiB).
std::optional<uint64_t> findEndRecord(std::span<const std::byte> zip) {
  if (zip.size() < kEndLen)
    return std::nullopt;
  uint64_t last = zip.size() - kEndLen;
  uint64_t first = last > 0xffff ? last - 0xffff : 0;
  for (uint64_t pos = last + 1; pos-- > first;)
    if (le32(&zip[pos]) == kEndSig && pos + kEndLen + le16(&zip[pos + 20]) == zip.size())
      return pos;
  return std::nullopt;
}

/// Reads the central directory, checking every offset and size against the
/// archive before trusting it.
bool readDirectory(std::span<const std::byte> zip, std::vector<ZipEntry> &entries,
                   uint64_t &dirOffset, std::string &error) {
  std::optional<uint64_t> end = findEndRecord(zip);
  if (!end) {
    error = "not a ZIP archive (no end-of-central-directory record)";
    return false;
  }
  const std::byte *e = &zip[*end];
  uint16_t count = le16(e + 10);
  uint64_t dirSize = le32(e + 12);
  dirOffset = le32(e + 16);
  if (count == 0xffff || dirSize == kZipLimit || dirOffset == kZipLimit) {
    error = "ZIP64 archives (over 4 GiB or 65535 members) are not supported";
    return false;
  }
  if (le16(e + 4) != 0 || le16(e + 6) != 0 || le16(e + 8) != count) {
    error = "multi-volume ZIP archives are not supported";
    return false;
  }
  if (dirOffset + dirSize > *end || dirSize < uint64_t(count) * kCentralLen) {
    error = "corrupt ZIP archive (central directory out of bounds)";
    return false;
  }
  uint64_t pos = dirOffset, dirEnd = dirOffset + dirSize;
  for (unsigned i = 0; i < count; ++i) {
    const std::byte *c = zip.data() + pos;
    if (pos + kCentralLen > dirEnd || le32(c) != kCentralSig) {
      error = "corrupt ZIP archive (bad central directory entry " + std::to_string(i) + ")";
      return false;
    }
    uint64_t nameLen = le16(c + 28), extraLen = le16(c + 30), commentLen = le16(c + 32);
    if (pos + kCentralLen + nameLen + extraLen + commentLen > dirEnd) {
      error = "corrupt ZIP archive (central directory entry " + std::to_string(i) +
              " overruns the directory)";
      return false;
    }
    ZipEntry entry;
    entry.name.assign(reinterpret_cast<const char *>(c) + kCentralLen, nameLen);
    uint16_t flags = le16(c + 8);
    entry.method = le16(c + 10);
    entry.crc = le32(c + 16);
    entry.compSize = le32(c + 20);
    entry.size = le32(c + 24);
    entry.localOffset = le32(c + 42);
    std::string what = "member '" + keyOf(entry.name) + "': ";
    if (entry.compSize == kZipLimit || entry.size == kZipLimit || entry.localOffset == kZipLimit) {
      error = what + "ZIP64 members (over 4 GiB) are not supported";
      return false;
    }
    if (flags & 1) {
      error = what + "encrypted members are not supported";
      return false;
    }
    if (entry.method != 0 && entry.method != 8) {
      error = what + "compression method " + std::to_string(entry.method) +
              " is not supported (only stored and deflated)";
      return false;
    }
    entries.push_back(std::move(entry));
    pos += kCentralLen + nameLen + extraLen + commentLen;
  }
  return true;
}

/// The uncompressed bytes of one member, CRC-checked. The local header is
/// only consulted for where the data starts: NumPy writes its sizes as
/// ZIP64 stand-in values, while the central directory has the real ones.
bool extractMember(std::span<const std::byte> zip, const ZipEntry &entry, uint64_t dirOffset,
                   std::vector<std::byte> &out, std::string &error) {
  uint64_t at = entry.localOffset;
  if (at + kLocalLen > dirOffset || le32(&zip[at]) != kLocalSig) {
    error = "corrupt ZIP archive (bad local header at offset " + std::to_string(at) + ")";
    return false;
  }
  uint64_t nameLen = le16(&zip[at + 26]), extraLen = le16(&zip[at + 28]);
  uint64_t start = at + kLocalLen + nameLen + extraLen;
  if (start + entry.compSize > dirOffset) {
    error = "truncated member data (expected " + std::to_string(entry.compSize) + " bytes, found " +
            std::to_string(dirOffset - std::min(start, dirOffset)) + ")";
    return false;
  }
  auto localName = reinterpret_cast<const char *>(&zip[at + kLocalLen]);
  if (std::string_view(localName, nameLen) != entry.name) {
    error = "corrupt ZIP archive (local header names a different member)";
    return false;
  }
  auto data = zip.subspan(start, entry.compSize);
  if (entry.method == 0) {
    if (entry.compSize != entry.size) {
      error = "corrupt ZIP archive (stored member has compressed size " +
              std::to_string(entry.compSize) + " but size " + std::to_string(entry.size) + ")";
      return false;
    }
    out.assign(data.begin(), data.end());
  } else {
    if (entry.size > entry.compSize * kMaxDeflateRatio + 1024) {
      error = "claims " + std::to_string(entry.size) + " bytes from " +
              std::to_string(entry.compSize) + " compressed bytes, more than deflate can produce";
      return false;
    }
    out.resize(entry.size);
    if (!inflateRaw(data, out, error))
      return false;
  }
  uint32_t crc = crcOf(out, 0);
  if (crc != entry.crc) {
    char buf[80];
    std::snprintf(buf, sizeof buf, "CRC-32 mismatch (archive says %08x, data has %08x)", entry.crc,
                  crc);
    error = buf;
    return false;
  }
  return true;
}

void put16(std::string &s, uint32_t v) {
  s += char(v & 0xff);
  s += char((v >> 8) & 0xff);
}
void put32(std::string &s, uint32_t v) {
  put16(s, v & 0xffff);
  put16(s, v >> 16);
}

/// The fields local and central headers share, from "version needed" to the
/// name length. Times are fixed at 1980-01-01 00:00 so that equal arrays
/// give byte-identical archives.
void putCommon(std::string &s, const std::string &name, uint32_t crc, uint32_t size) {
  bool utf8 =
      std::any_of(name.begin(), name.end(), [](char c) { return (unsigned char)c >= 0x80; });
  put16(s, 20);                  // version needed: 2.0
  put16(s, utf8 ? 1u << 11 : 0); // flags: the name is UTF-8
  put16(s, 0);                   // method: stored
  put16(s, 0);                   // time
  put16(s, (1 << 5) | 1);        // date: 1980-01-01
  put32(s, crc);
  put32(s, size); // compressed size
  put32(s, size);
  put16(s, uint32_t(name.size()));
}

} // namespace

std::optional<NamedArrays> readNpzBytes(std::span<const std::byte> bytes, std::string_view name,
                                        std::string &error) {
  error.clear();
  std::vector<ZipEntry> entries;
  uint64_t dirOffset = 0;
  if (bytes.size() > kZipLimit)
    error = "archives over 4 GiB (ZIP64) are not supported";
  if (!error.empty() || !readDirectory(bytes, entries, dirOffset, error)) {
    error = std::string(name) + ": " + error;
    return std::nullopt;
  }
  NamedArrays arrays;
  std::set<std::string> seen;
  std::vector<std::byte> member;
  for (const ZipEntry &entry : entries) {
    if (!entry.name.ends_with(".npy") || entry.name.size() == 4) {
      error = std::string(name) + ": member '" + entry.name + "' is not an .npy file";
      return std::nullopt;
    }
    std::string key = keyOf(entry.name);
    std::string label = std::string(name) + ": member '" + key + "'";
    // NumPy would silently keep the last of two equal names.
    if (!seen.insert(key).second) {
      error = label + ": appears twice in the archive";
      return std::nullopt;
    }
    if (!extractMember(bytes, entry, dirOffset, member, error)) {
      error = label + ": " + error;
      return std::nullopt;
    }
    std::optional<HostArray> a = readNpyBytes(member, label, error);
    if (!a)
      return std::nullopt;
    arrays.emplace_back(std::move(key), std::move(*a));
  }
  return arrays;
}

std::optional<NamedArrays> readNpz(const std::string &path, std::string &error) {
  error.clear();
  InputFile f;
  if (!f.open(path, error))
    return std::nullopt;
  if (f.size() > kZipLimit) {
    error = path + ": archives over 4 GiB (ZIP64) are not supported";
    return std::nullopt;
  }
  std::vector<std::byte> bytes(f.size());
  if (!f.readAt(0, bytes.data(), bytes.size(), error))
    return std::nullopt;
  return readNpzBytes(bytes, path, error);
}

bool writeNpz(const std::string &path, const NamedArrays &arrays, std::string &error) {
  error.clear();
  // Check everything before creating the file: sizes must fit the 32-bit
  // fields of a plain (non-ZIP64) archive.
  std::set<std::string> seen;
  std::vector<std::string> headers;
  uint64_t total = kEndLen;
  for (const auto &[name, array] : arrays) {
    if (name.empty() || name.size() > 0xfff0 || !seen.insert(name).second) {
      error = path + ": member name '" + name +
              (name.empty() ? "' is empty" : "' is too long or repeated");
      return false;
    }
    headers.push_back(npyHeader(array));
    total += kLocalLen + kCentralLen + 2 * (name.size() + 4) + headers.back().size() +
             array.bytes.size();
  }
  if (total > kZipLimit || arrays.size() >= 0xffff) {
    error = path + ": archive would exceed 4 GiB or 65535 members (ZIP64 "
                   "archives are not written)";
    return false;
  }

  AtomicFile file(path);
  if (!file.open(error))
    return false;
  std::string directory;
  uint32_t offset = 0;
  for (size_t i = 0; i < arrays.size(); ++i) {
    const auto &[name, array] = arrays[i];
    std::string member = name + ".npy", &header = headers[i];
    uint32_t crc = crcOf(array.bytes, crcOf(asBytes(header), 0));
    uint32_t size = uint32_t(header.size() + array.bytes.size());
    std::string local;
    put32(local, kLocalSig);
    putCommon(local, member, crc, size);
    put16(local, 0); // extra length
    local += member;
    if (!file.write(local, error) || !file.write(header, error) || !file.write(array.bytes, error))
      return false;

    put32(directory, kCentralSig);
    put16(directory, 20); // made by: MS-DOS-compatible, version 2.0
    putCommon(directory, member, crc, size);
    put16(directory, 0); // extra length
    put16(directory, 0); // comment length
    put16(directory, 0); // disk number
    put16(directory, 0); // internal attributes
    put32(directory, 0); // external attributes
    put32(directory, offset);
    directory += member;
    offset += uint32_t(local.size()) + size;
  }
  std::string end;
  put32(end, kEndSig);
  put16(end, 0); // this disk
  put16(end, 0); // disk with the directory
  put16(end, uint32_t(arrays.size()));
  put16(end, uint32_t(arrays.size()));
  put32(end, uint32_t(directory.size()));
  put32(end, offset);
  put16(end, 0); // comment length
  return file.write(directory, error) && file.write(end, error) && file.commit(error);
}

} // namespace gradc::runtime
