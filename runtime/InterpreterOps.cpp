//===- runtime/InterpreterOps.cpp - The interpreter's op kernels ----------===//
//
// Elementwise ops, reductions and normalizations; the ops that go through
// index maps are in InterpreterMaps.cpp.
//
//===----------------------------------------------------------------------===//
#include "runtime/InterpreterOps.h"

#include "support/Assert.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace gradc::runtime::interp {

using ir::OpKind;

static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
static constexpr double kInf = std::numeric_limits<double>::infinity();

/// Element i of an elementwise operand; a rank-0 operand broadcasts.
static double elem(const DTensor &x, size_t i) {
  return x.type.rank() == 0 ? x.data[0] : x.data[i];
}

/// Asserts that elementwise operands fit the result (the verifier's job, but
/// a mismatch here would read out of bounds).
static void checkFits(const DTensor &r, std::initializer_list<const DTensor *> xs) {
  for (const DTensor *x : xs)
    GRADC_ASSERT(x->type.rank() == 0 || x->data.size() == r.data.size(),
                 "elementwise operand " + x->type.str() + " does not fit " + r.type.str());
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

/// x ^ e. std::pow is exact in sign for a negative x and an integral e
/// ((-2)^3 = -8, (-2)^-2 = 0.25) where exp(e log x) would give NaN; a square
/// is x*x, as native code computes it.
static double powConst(double x, double e) {
  if (e == 2.0)
    return x * x;
  return std::pow(x, e);
}

static double unaryValue(OpKind k, double x, double attr) {
  switch (k) {
  case OpKind::Neg:
    return -x;
  case OpKind::Exp:
    return std::exp(x);
  case OpKind::Log:
    return std::log(x);
  case OpKind::Sqrt:
    return std::sqrt(x);
  case OpKind::Rsqrt:
    return 1.0 / std::sqrt(x);
  case OpKind::Abs:
    return std::fabs(x);
  case OpKind::Tanh:
    return std::tanh(x);
  case OpKind::Sigmoid:
    // Either branch's exp argument is <= 0, so neither overflows.
    return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x));
  case OpKind::Relu:
    return x < 0 ? 0.0 : x; // NaN passes through
  case OpKind::Softplus:
    // log(1 + e^x) = max(x, 0) + log(1 + e^-|x|), finite for any finite x.
    return std::max(x, 0.0) + std::log1p(std::exp(-std::fabs(x)));
  case OpKind::Sin:
    return std::sin(x);
  case OpKind::Cos:
    return std::cos(x);
  case OpKind::PowC:
    return powConst(x, attr);
  case OpKind::StopGrad:
    return x;
  default:
    GRADC_UNREACHABLE(std::string("not a unary op: ") + ir::opMnemonic(k));
  }
}

DTensor evalUnary(const ir::Op &op, const DTensor &x) {
  DTensor r = DTensor::zeros(op.result()->type);
  GRADC_ASSERT(x.data.size() == r.data.size(), "unary operand does not fit its result");
  for (size_t i = 0; i < r.data.size(); ++i)
    r.data[i] = unaryValue(op.kind, x.data[i], op.value);
  return r;
}

static double binaryValue(OpKind k, double a, double b) {
  switch (k) {
  case OpKind::Add:
    return a + b;
  case OpKind::Sub:
    return a - b;
  case OpKind::Mul:
    return a * b;
  case OpKind::Div:
    return a / b;
  case OpKind::Max:
    return std::isnan(a) || std::isnan(b) ? kNaN : (a >= b ? a : b);
  case OpKind::Min:
    return std::isnan(a) || std::isnan(b) ? kNaN : (a <= b ? a : b);
  case OpKind::LeakyRelu:
    return a > 0 ? a : b * a;
  case OpKind::Lt:
    return a < b;
  case OpKind::Le:
    return a <= b;
  case OpKind::Gt:
    return a > b;
  case OpKind::Ge:
    return a >= b;
  case OpKind::Eq:
    return a == b;
  case OpKind::Ne:
    return a != b;
  default:
    GRADC_UNREACHABLE(std::string("not a binary op: ") + ir::opMnemonic(k));
  }
}

DTensor evalBinary(const ir::Op &op, const DTensor &a, const DTensor &b) {
  DTensor r = DTensor::zeros(op.result()->type);
  checkFits(r, {&a, &b});
  for (size_t i = 0; i < r.data.size(); ++i)
    r.data[i] = binaryValue(op.kind, elem(a, i), elem(b, i));
  return r;
}

DTensor evalWhere(const ir::Op &op, const DTensor &c, const DTensor &a, const DTensor &b) {
  DTensor r = DTensor::zeros(op.result()->type);
  checkFits(r, {&c, &a, &b});
  for (size_t i = 0; i < r.data.size(); ++i)
    r.data[i] = elem(c, i) != 0 ? elem(a, i) : elem(b, i);
  return r;
}

//===----------------------------------------------------------------------===//
// Reductions and normalizations
//===----------------------------------------------------------------------===//

namespace {

/// Maps each element of a tensor to its group: the position of the element
/// with the reduced axes dropped, as a linear index into the kept axes.
struct Groups {
  Groups(const DTensor &x, const std::vector<int> &axes) {
    const auto &shape = x.type.shape;
    std::vector<bool> reduced(shape.size(), false);
    for (int a : axes) {
      GRADC_ASSERT(a >= 0 && a < static_cast<int>(shape.size()), "reduction axis out of range");
      reduced[a] = true;
    }
    std::vector<int64_t> stride(shape.size(), 0);
    for (size_t a = shape.size(); a-- > 0;)
      if (!reduced[a]) {
        stride[a] = count;
        count *= shape[a];
      }
    of.resize(x.data.size());
    std::vector<int64_t> idx(shape.size(), 0);
    size_t i = 0;
    do {
      int64_t g = 0;
      for (size_t a = 0; a < shape.size(); ++a)
        g += idx[a] * stride[a];
      of[i++] = g;
    } while (advance(idx, shape));
  }
  int64_t count = 1;       ///< number of groups
  std::vector<int64_t> of; ///< group of each element
};

/// The maximum (or minimum) of each group; NaN if a group holds a NaN.
std::vector<double> groupExtreme(const DTensor &x, const Groups &g, bool max) {
  std::vector<double> m(g.count, max ? -kInf : kInf);
  for (size_t i = 0; i < x.data.size(); ++i) {
    double &acc = m[g.of[i]];
    double v = x.data[i];
    if (!std::isnan(acc) && (std::isnan(v) || (max ? v > acc : v < acc)))
      acc = v;
  }
  return m;
}

/// sum(exp(x - shift)) per group; a shift of +-inf gives a zero shift, so an
/// all -inf group sums to 0 and logsumexp stays -inf instead of NaN.
std::vector<double> groupSumExp(const DTensor &x, const Groups &g,
                                const std::vector<double> &shift) {
  std::vector<double> s(g.count, 0.0);
  for (size_t i = 0; i < x.data.size(); ++i) {
    double m = shift[g.of[i]];
    s[g.of[i]] += std::exp(x.data[i] - (std::isinf(m) ? 0.0 : m));
  }
  return s;
}

double finiteOrZero(double m) { return std::isinf(m) ? 0.0 : m; }

} // namespace

DTensor evalReduce(const ir::Op &op, const DTensor &x) {
  Groups g(x, op.axes);
  DTensor r = DTensor::zeros(op.result()->type);
  GRADC_ASSERT(static_cast<int64_t>(r.data.size()) == g.count, "reduction result size");
  switch (op.kind) {
  case OpKind::ReduceSum:
    for (size_t i = 0; i < x.data.size(); ++i)
      r.data[g.of[i]] += x.data[i];
    break;
  case OpKind::ReduceMax:
  case OpKind::ReduceMin:
    r.data = groupExtreme(x, g, op.kind == OpKind::ReduceMax);
    break;
  case OpKind::LogSumExp: {
    // max + log(sum(exp(x - max))): no term exceeds 1, so nothing overflows.
    std::vector<double> m = groupExtreme(x, g, true);
    std::vector<double> s = groupSumExp(x, g, m);
    for (int64_t k = 0; k < g.count; ++k)
      r.data[k] = finiteOrZero(m[k]) + std::log(s[k]);
    break;
  }
  case OpKind::ArgMax: {
    GRADC_ASSERT(op.axes.size() == 1, "argmax over more than one axis");
    // Elements run in C order, so each group meets its candidates in
    // increasing position along the axis: keeping only strictly greater
    // values selects the first maximum (and the first NaN, as NumPy does).
    std::vector<int64_t> idx(x.type.shape.size(), 0);
    std::vector<double> best(g.count, -kInf);
    std::vector<bool> seen(g.count, false);
    size_t i = 0;
    do {
      int64_t k = g.of[i];
      double v = x.data[i++];
      bool better = !seen[k] || (!std::isnan(best[k]) && (v > best[k] || std::isnan(v)));
      if (better) {
        best[k] = v;
        seen[k] = true;
        r.data[k] = static_cast<double>(idx[op.axes[0]]);
      }
    } while (advance(idx, x.type.shape));
    break;
  }
  default:
    GRADC_UNREACHABLE(std::string("not a reduction: ") + op.mnemonic());
  }
  return r;
}

DTensor evalNormalize(const ir::Op &op, const DTensor &x) {
  Groups g(x, op.axes);
  std::vector<double> m = groupExtreme(x, g, true);
  std::vector<double> s = groupSumExp(x, g, m);
  DTensor r = DTensor::zeros(op.result()->type);
  for (size_t i = 0; i < x.data.size(); ++i) {
    int64_t k = g.of[i];
    double shifted = x.data[i] - finiteOrZero(m[k]);
    switch (op.kind) {
    case OpKind::Softmax:
      r.data[i] = std::exp(shifted) / s[k];
      break;
    case OpKind::LogSoftmax:
      r.data[i] = shifted - std::log(s[k]);
      break;
    default:
      GRADC_UNREACHABLE(std::string("not a normalization: ") + op.mnemonic());
    }
  }
  return r;
}

} // namespace gradc::runtime::interp
