//===- runtime/NpyIO.h - NumPy .npy and .npz files --------------*- C++ -*-===//
//
// Reads and writes the array files `gradc run` and `gradc train` exchange
// with NumPy: .npy (format 1.0, 2.0 and 3.0 headers, C order, little- or
// big-endian) and .npz (a ZIP archive of NAME.npy members, stored or
// deflated). Every size in a file is checked against the file before it is
// used, so a damaged or hostile file gives an error, never a crash or a huge
// allocation. Errors are sentences that name the file and, inside an .npz,
// the member: "params.npz: member 'a1.W': truncated data (expected 4096
// bytes, found 100)".
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/HostArray.h"

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gradc::runtime {

/// Limits on what a file may declare; beyond them the file is refused.
inline constexpr uint64_t kNpyMaxHeaderLen = 65536;
inline constexpr int kNpyMaxRank = 16;
inline constexpr int64_t kNpyMaxElements = int64_t(1) << 31;

/// Parses the bytes of one .npy file. `name` prefixes every error message
/// (a path, or "FILE.npz: member 'x'").
std::optional<HostArray> readNpyBytes(std::span<const std::byte> bytes, std::string_view name,
                                      std::string &error);

/// Reads an .npy file.
std::optional<HostArray> readNpy(const std::string &path, std::string &error);

/// Writes `array` as an .npy file (format 1.0, little-endian, C order).
/// Atomic: the file is written to PATH.tmp.<pid>, synced, and renamed over
/// `path`; on failure `path` is untouched and no temporary file remains.
bool writeNpy(const std::string &path, const HostArray &array, std::string &error);

/// The bytes writeNpy() would write.
std::vector<std::byte> encodeNpy(const HostArray &array);

/// The .npy magic, version and header dict for `array`, padded so that the
/// elements, which follow it unchanged, start at a multiple of 64 bytes.
std::string npyHeader(const HostArray &array);

/// Named arrays, in archive order; names carry no ".npy" suffix.
using NamedArrays = std::vector<std::pair<std::string, HostArray>>;

/// Reads an .npz archive: every member must be an .npy file, stored or
/// deflated, whose CRC-32 matches. ZIP64 archives (members or archives over
/// 4 GiB) are refused.
std::optional<NamedArrays> readNpz(const std::string &path, std::string &error);

/// Parses the bytes of an .npz archive; `name` prefixes errors.
std::optional<NamedArrays> readNpzBytes(std::span<const std::byte> bytes, std::string_view name,
                                        std::string &error);

/// Writes an .npz archive of stored (uncompressed) members, NAME.npy for
/// each entry, atomically as writeNpy() does. Names must be non-empty and
/// distinct; the archive must stay under 4 GiB.
bool writeNpz(const std::string &path, const NamedArrays &arrays, std::string &error);

} // namespace gradc::runtime
