//===- tests/unit/InterpreterTestUtil.h - Test helpers ----------*- C++ -*-===//
//
// Building small graphs and checking interpreter values, shared by the
// interpreter's test files.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Builder.h"
#include "runtime/Interpreter.h"
#include "runtime/Random.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace gradc::testutil {

using ir::Affine;
using ir::IndexMap;
using ir::TensorType;
using runtime::DTensor;

/// A tensor with its values in C order.
inline DTensor f32(std::vector<int64_t> shape, std::vector<double> data) {
  return DTensor{TensorType::f32(std::move(shape)), std::move(data)};
}

inline DTensor i32(std::vector<int64_t> shape, std::vector<double> data) {
  return DTensor{TensorType::i32(std::move(shape)), std::move(data)};
}

/// Normal random values, for operands whose exact values do not matter.
inline DTensor randomF32(std::vector<int64_t> shape, uint64_t seed) {
  DTensor t = DTensor::zeros(TensorType::f32(std::move(shape)));
  runtime::Random r(seed);
  r.fillNormal(t.data.data(), t.data.size());
  return t;
}

/// c + coeff * d<v>.
inline Affine loopVar(int v, int64_t c = 0, int64_t coeff = 1) {
  return Affine::var(v, coeff).plus(Affine::constantOf(c));
}

/// c + step variable number s of the op.
inline Affine symbol(int s, int64_t c = 0) {
  return Affine::var(Affine::symbolVar(s)).plus(Affine::constantOf(c));
}

/// An affine map, one position per axis of the operand read.
inline IndexMap mapOf(std::vector<Affine> axes) {
  IndexMap m(axes.size());
  for (size_t i = 0; i < axes.size(); ++i)
    m[i].pos = axes[i];
  return m;
}

/// An f32 input leaf.
inline ir::Value *input(ir::Builder &b, const std::string &name, std::vector<int64_t> shape) {
  return b.leaf(ir::OpKind::Input, name, TensorType::f32(std::move(shape)));
}

/// Elementwise equality up to a relative (and tiny absolute) tolerance.
inline void checkClose(const DTensor &got, const std::vector<double> &want, double tol = 1e-12) {
  REQUIRE(got.data.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    INFO("element " << i);
    if (got.data[i] == want[i]) // also matches infinities
      continue;
    CHECK(got.data[i] == doctest::Approx(want[i]).epsilon(tol).scale(1.0));
  }
}

} // namespace gradc::testutil
