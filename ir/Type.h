//===- ir/Type.h - Element types and static tensor shapes -----------------===//
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gradc::ir {

/// Element types. Index is the type of a recurrence's step variable, a
/// scalar that only index maps may use.
enum class DType : uint8_t { F32, I32, Index };

const char *dtypeName(DType t); ///< "f32", "i32", "index"

/// A static tensor type: element type and shape (rank 0 for scalars).
struct TensorType {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;

  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  int64_t numElements() const {
    int64_t n = 1;
    for (int64_t d : shape)
      n *= d;
    return n;
  }
  bool operator==(const TensorType &o) const { return dtype == o.dtype && shape == o.shape; }
  bool operator!=(const TensorType &o) const { return !(*this == o); }
  /// "f32[32,50,128]", "f32[]", "index".
  std::string str() const;

  static TensorType f32(std::vector<int64_t> s) { return {DType::F32, std::move(s)}; }
  static TensorType i32(std::vector<int64_t> s) { return {DType::I32, std::move(s)}; }
  static TensorType index() { return {DType::Index, {}}; }
};

} // namespace gradc::ir
