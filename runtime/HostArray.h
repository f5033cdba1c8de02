//===- runtime/HostArray.h - Typed n-d arrays in host memory ----*- C++ -*-===//
//
// The currency of data I/O: what .npy/.npz readers produce and writers take,
// before a session copies values into its own buffers. Elements are stored
// densely in C (row-major) order.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "support/Assert.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace gradc::runtime {

/// Element types an array file may hold: the NumPy dtypes f4 f8 i1 i2 i4 i8
/// u1 u2 u4 b1. gradc computes in F32 and I32; the rest exist so that files
/// written by NumPy with its defaults (float64, int64) load and convert.
enum class ElemType : uint8_t { F32, F64, I8, I16, I32, I64, U8, U16, U32, Bool };

/// Bytes per element.
size_t elemSize(ElemType t);
/// "f32", "f64", "i8", ..., "bool": the name used in diagnostics.
const char *elemTypeName(ElemType t);
/// True for F32 and F64.
bool isFloat(ElemType t);

/// Maps a C++ element type to its ElemType (float -> F32, bool -> Bool, ...).
template <class T> constexpr ElemType elemTypeOf();
template <> constexpr ElemType elemTypeOf<float>() { return ElemType::F32; }
template <> constexpr ElemType elemTypeOf<double>() { return ElemType::F64; }
template <> constexpr ElemType elemTypeOf<int8_t>() { return ElemType::I8; }
template <> constexpr ElemType elemTypeOf<int16_t>() { return ElemType::I16; }
template <> constexpr ElemType elemTypeOf<int32_t>() { return ElemType::I32; }
template <> constexpr ElemType elemTypeOf<int64_t>() { return ElemType::I64; }
template <> constexpr ElemType elemTypeOf<uint8_t>() { return ElemType::U8; }
template <> constexpr ElemType elemTypeOf<uint16_t>() { return ElemType::U16; }
template <> constexpr ElemType elemTypeOf<uint32_t>() { return ElemType::U32; }
template <> constexpr ElemType elemTypeOf<bool>() { return ElemType::Bool; }

/// A dense C-order array. Storage comes from operator new, so it is aligned
/// for every element type (16 bytes on x86-64). A Bool element is one byte
/// holding 0 or 1; readers reject any other byte so that bool() reads are
/// well defined.
struct HostArray {
  ElemType type = ElemType::F32;
  std::vector<int64_t> shape; ///< Empty for a 0-d (scalar) array.
  std::vector<std::byte> bytes;

  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  /// Product of the dims; 1 for a scalar, 0 if any dim is 0.
  int64_t numElements() const;
  /// numElements() * elemSize(type).
  size_t byteSize() const { return bytes.size(); }
  /// "f32[2,3]", "i64[]": for diagnostics.
  std::string typeStr() const;

  /// A zero-filled array. Dims must be non-negative (an internal error
  /// otherwise: callers validate user-given shapes first).
  static HostArray zeros(ElemType type, std::vector<int64_t> shape);

  /// An array of `values` laid out in C order; their count must match.
  template <class T>
  static HostArray fromValues(std::vector<int64_t> shape, const std::vector<T> &values) {
    HostArray a = zeros(elemTypeOf<T>(), std::move(shape));
    GRADC_ASSERT(static_cast<int64_t>(values.size()) == a.numElements(),
                 "value count does not match shape");
    T *out = a.data<T>();
    for (size_t i = 0; i < values.size(); ++i)
      out[i] = values[i];
    return a;
  }

  /// Typed view of the elements; T must match `type` (checked).
  template <class T> T *data() {
    GRADC_ASSERT(elemTypeOf<T>() == type, "element type mismatch");
    return reinterpret_cast<T *>(bytes.data());
  }
  template <class T> const T *data() const {
    GRADC_ASSERT(elemTypeOf<T>() == type, "element type mismatch");
    return reinterpret_cast<const T *>(bytes.data());
  }
  float *f32() { return data<float>(); }
  const float *f32() const { return data<float>(); }
  double *f64() { return data<double>(); }
  const double *f64() const { return data<double>(); }
  int32_t *i32() { return data<int32_t>(); }
  const int32_t *i32() const { return data<int32_t>(); }
  int64_t *i64() { return data<int64_t>(); }
  const int64_t *i64() const { return data<int64_t>(); }
  uint8_t *u8() { return data<uint8_t>(); }
  const uint8_t *u8() const { return data<uint8_t>(); }
  bool *boolean() { return data<bool>(); }
  const bool *boolean() const { return data<bool>(); }

  /// Same type, shape and bytes (so NaNs with equal bits compare equal).
  bool operator==(const HostArray &o) const = default;
};

/// Converts `a` to `target` when no value changes meaning. On success
/// `whyNot` is cleared; on failure it says why (naming the first offending
/// value and its flat index) and the result is an empty array, so callers
/// test `whyNot.empty()`. The rules:
///   - same type: a copy;
///   - f32 -> f64 always; f64 -> f32 rounds, but a finite value beyond the
///     f32 range (it would become inf) is an error;
///   - float -> integer or bool: refused (a silent truncation);
///   - integer or bool -> float when exact: |v| <= 2^24 for f32, 2^53 for f64;
///   - integer or bool -> integer when every value fits the target's range;
///   - integer -> bool when every value is 0 or 1.
HostArray convertTo(const HostArray &a, ElemType target, std::string &whyNot);

} // namespace gradc::runtime
