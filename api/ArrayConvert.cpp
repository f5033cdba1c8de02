//===- api/ArrayConvert.cpp - Arrays from files as a model's tensors -------===//
#include "api/ArrayConvert.h"

#include <cstring>

namespace gradc::api {

std::string shapeString(const std::vector<int64_t> &shape) {
  std::string r = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    r += (i ? "," : "") + std::to_string(shape[i]);
  return r + "]";
}

std::string typeString(DType dtype, const std::vector<int64_t> &shape) {
  return (dtype == DType::I32 ? "i32" : "f32") + shapeString(shape);
}

Tensor tensorFromArray(const runtime::HostArray &a, const TensorInfo &want,
                       const std::string &source, const std::string &role) {
  const std::string where = source + ": '" + want.name + "'";
  if (a.shape != want.shape)
    throw Error(where + " must have shape " + shapeString(want.shape) + ", but the array is " +
                a.typeStr() + " (-D changes a model's sizes)");
  bool wantInt = want.dtype == DType::I32;
  if (wantInt == runtime::isFloat(a.type))
    throw Error(where + (wantInt ? " is an int " + role : " is an f32 " + role) +
                ", but the array holds " + runtime::elemTypeName(a.type) + " values");
  std::string why;
  runtime::HostArray c =
      runtime::convertTo(a, wantInt ? runtime::ElemType::I32 : runtime::ElemType::F32, why);
  if (!why.empty())
    throw Error(where + ": " + why);
  Tensor t;
  t.dtype = want.dtype;
  t.shape = want.shape;
  if (wantInt)
    t.i32.assign(c.i32(), c.i32() + c.numElements());
  else
    t.f32.assign(c.f32(), c.f32() + c.numElements());
  return t;
}

runtime::HostArray arrayFromTensor(const Tensor &t) {
  bool isInt = t.dtype == DType::I32;
  runtime::HostArray a =
      runtime::HostArray::zeros(isInt ? runtime::ElemType::I32 : runtime::ElemType::F32, t.shape);
  if (isInt)
    std::memcpy(a.i32(), t.i32.data(), t.i32.size() * 4);
  else
    std::memcpy(a.f32(), t.f32.data(), t.f32.size() * 4);
  return a;
}

} // namespace gradc::api
