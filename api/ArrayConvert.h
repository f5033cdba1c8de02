//===- api/ArrayConvert.h - Arrays from files as a model's tensors ---------===//
//
// The .npy/.npz conventions of DESIGN.md for the session API and the command
// line built on it: arrays named after the model's tensors, C order, shaped
// as declared; float64 and int64 (and narrower ints) converted when their
// values fit; every error names the file it came from.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "gradc/gradc.h"
#include "runtime/HostArray.h"

#include <string>

namespace gradc::api {

/// `a`, read from `source`, as the tensor `want` describes (its name, type
/// and shape). Throws Error saying what does not fit; `role` names what the
/// tensor is in the message ("an int input").
Tensor tensorFromArray(const runtime::HostArray &a, const TensorInfo &want,
                       const std::string &source, const std::string &role = "tensor");

/// "[2,3]": a shape as messages and `gradc run` show it.
std::string shapeString(const std::vector<int64_t> &shape);
/// "f32[2,3]", "i32[4]".
std::string typeString(DType dtype, const std::vector<int64_t> &shape);

/// A tensor as the f32 (or i32) array gradc writes.
runtime::HostArray arrayFromTensor(const Tensor &t);

} // namespace gradc::api
