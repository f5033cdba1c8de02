//===- support/ParseNumber.h - Whole numbers from text ---------------------===//
//
// Counts given as text (a checkpoint's step, a schedule's EVERY): decimal
// digits only, the whole string, no sign, no spaces, no overflow.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

namespace gradc {

/// `text` as a non-negative whole number, or nullopt.
inline std::optional<uint64_t> parseCount(std::string_view text) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    return std::nullopt;
  return v;
}

} // namespace gradc
