//===- runtime/SafetensorsIO.h - .safetensors files -------------*- C++ -*-===//
//
// The checkpoint format of `gradc train` (parameters, optimizer state, step
// and generator state) and a parameter format `gradc run --params` reads:
// Hugging Face's safetensors (https://github.com/huggingface/safetensors):
//
//   8 bytes   N, the header's length, little-endian
//   N bytes   a JSON object: NAME -> {"dtype": "F32", "shape": [2, 3],
//             "data_offsets": [BEGIN, END]} (offsets into the data that
//             follows), and optionally "__metadata__" -> {string: string}
//   the data  every tensor's bytes, little-endian, C order
//
// Writing is atomic (a temporary file, fsync, rename), so a crash never
// leaves half a checkpoint over a good one. Reading checks the header against
// the file before using any of it: a truncated, corrupted or hostile file is
// an error naming it, never a crash or a huge allocation. As the format
// requires, the tensors' byte ranges must tile the data exactly: no gaps,
// no overlaps, nothing after the last.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/HostArray.h"
#include "runtime/NpyIO.h"

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace gradc::runtime {

/// The largest header accepted (the format's own readers refuse above 100 MB).
inline constexpr uint64_t kSafetensorsMaxHeader = 100'000'000;
/// The largest file read (64 GiB): a bound on what a damaged size can
/// make gradc allocate.
inline constexpr uint64_t kSafetensorsMaxFile = uint64_t(1) << 36;

struct Safetensors {
  NamedArrays tensors; ///< in the order of their data
  std::map<std::string, std::string> metadata;
};

/// The bytes of a .safetensors file holding `tensors` (written in the given
/// order) and `metadata`.
std::vector<std::byte> encodeSafetensors(const NamedArrays &tensors,
                                         const std::map<std::string, std::string> &metadata);

/// Writes a .safetensors file atomically; `path` is untouched on failure.
bool writeSafetensors(const std::string &path, const NamedArrays &tensors,
                      const std::map<std::string, std::string> &metadata, std::string &error);

/// Parses the bytes of a .safetensors file; `name` prefixes errors.
std::optional<Safetensors> readSafetensorsBytes(std::span<const std::byte> bytes,
                                                std::string_view name, std::string &error);

/// Reads a .safetensors file.
std::optional<Safetensors> readSafetensors(const std::string &path, std::string &error);

/// How a checkpoint names its optimizer state: optimizer/STATE/PARAM ('/'
/// appears in no name of the language, so these never meet a parameter).
inline constexpr std::string_view kOptimizerStatePrefix = "optimizer/";

/// True when `path` begins as a ZIP archive ("PK"), as .npz files do.
bool looksLikeNpz(const std::string &path);

/// The tensors of a parameter file (`--params`): an .npz, or a .safetensors,
/// told apart by content. A checkpoint's optimizer state is left out.
std::optional<NamedArrays> readParameterFile(const std::string &path, std::string &error);

} // namespace gradc::runtime
