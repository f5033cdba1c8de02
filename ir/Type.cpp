//===- ir/Type.cpp - Element types and static tensor shapes ---------------===//
#include "ir/Type.h"

namespace gradc::ir {

const char *dtypeName(DType t) {
  switch (t) {
  case DType::F32:
    return "f32";
  case DType::I32:
    return "i32";
  case DType::Index:
    return "index";
  }
  return "?";
}

std::string TensorType::str() const {
  if (dtype == DType::Index)
    return "index";
  std::string s = dtypeName(dtype);
  s += "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      s += ",";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

} // namespace gradc::ir
