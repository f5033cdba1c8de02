//===- runtime/InterpreterOps.h - The interpreter's op kernels --*- C++ -*-===//
//
// One function per op class, each computing an op's result from its operand
// values (InterpreterOps.cpp; the index-map ops in InterpreterMaps.cpp);
// runtime/Interpreter.cpp looks the operands up and runs regions.
// Step variables used by index maps arrive as `symbols` (op->symbols, in
// order, already evaluated).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Interpreter.h"

namespace gradc::runtime::interp {

using Operands = std::vector<const DTensor *>;

/// Steps a multi-index through `shape` in C order; false after the last.
inline bool advance(std::vector<int64_t> &idx, const std::vector<int64_t> &shape) {
  for (size_t i = shape.size(); i-- > 0;) {
    if (++idx[i] < shape[i])
      return true;
    idx[i] = 0;
  }
  return false;
}

/// neg, exp, ..., powc, stop_gradient.
DTensor evalUnary(const ir::Op &op, const DTensor &x);
/// Arithmetic and comparisons; a rank-0 operand broadcasts.
DTensor evalBinary(const ir::Op &op, const DTensor &a, const DTensor &b);
/// where(c, a, b) = c != 0 ? a : b; rank-0 operands broadcast.
DTensor evalWhere(const ir::Op &op, const DTensor &c, const DTensor &a, const DTensor &b);
/// result[d] = src[map(d)], 0 where an affine position is out of bounds.
DTensor evalRemap(const ir::Op &op, const Operands &xs, const std::vector<int64_t> &symbols);
/// result = 0, then result[map(d)] += src[d] for every position d of src,
/// skipping d where an affine position is out of bounds.
DTensor evalScatterAdd(const ir::Op &op, const Operands &xs, const std::vector<int64_t> &symbols);
/// result[d] = sum over r of the product of operand k at map_k(d, r); with
/// an output map, result[outMap(L)] += the product at every loop point L
/// whose output position is in bounds.
DTensor evalContract(const ir::Op &op, const Operands &xs, const std::vector<int64_t> &symbols);
/// reduce_sum, reduce_max, reduce_min, logsumexp, argmax over op.axes.
DTensor evalReduce(const ir::Op &op, const DTensor &x);
/// softmax, log_softmax over op.axes.
DTensor evalNormalize(const ir::Op &op, const DTensor &x);

} // namespace gradc::runtime::interp
