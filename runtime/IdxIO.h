//===- runtime/IdxIO.h - IDX files of the MNIST family ----------*- C++ -*-===//
//
// Reads the IDX format MNIST, Fashion-MNIST and their relatives ship in
// (http://yann.lecun.com/exdb/mnist/): two zero bytes, a type code (0x08
// unsigned byte, 0x09 signed byte, 0x0B int16, 0x0C int32, 0x0D float32,
// 0x0E float64), the number of dimensions, each dimension as a big-endian
// uint32, then the elements, big-endian, in C order. Files may be gzip'd
// (recognised by their first two bytes, not their name), as Debian's
// dataset-fashion-mnist installs them. Every size is checked against the
// data before it is used, so a damaged file is an error naming it, never a
// crash or a huge allocation.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/HostArray.h"

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace gradc::runtime {

/// The most bytes a gzip'd file may inflate to (4 GiB).
inline constexpr uint64_t kIdxMaxInflated = uint64_t(1) << 32;

/// Parses the bytes of an IDX file (already inflated). `name` prefixes
/// every error message.
std::optional<HostArray> readIdxBytes(std::span<const std::byte> bytes, std::string_view name,
                                      std::string &error);

/// Reads an IDX file, gzip'd or not, into an array of its own element type
/// (U8, I8, I16, I32, F32 or F64) and shape.
std::optional<HostArray> readIdx(const std::string &path, std::string &error);

} // namespace gradc::runtime
