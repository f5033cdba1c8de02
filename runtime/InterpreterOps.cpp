//===- runtime/InterpreterOps.cpp - The interpreter's op kernels ----------===//
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

/// Steps a multi-index through `shape` in C order; false after the last.
static bool advance(std::vector<int64_t> &idx, const std::vector<int64_t> &shape) {
  for (size_t i = shape.size(); i-- > 0;) {
    if (++idx[i] < shape[i])
      return true;
    idx[i] = 0;
  }
  return false;
}

static int64_t floorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}
static int64_t ceilDiv(int64_t a, int64_t b) { return -floorDiv(-a, b); }

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
// Index maps
//===----------------------------------------------------------------------===//

namespace {

/// Reads one operand of an op through its index map at given loop values.
/// Symbols are folded into the affine constants once per op execution, and
/// strides are precomputed, so a read costs a few multiply-adds per axis.
class MapReader {
public:
  MapReader(const ir::Op &op, int operand, const Operands &xs, const std::vector<int64_t> &symbols)
      : op_(op), src_(*xs[operand]), name_(op.operand(operand)->name) {
    const ir::IndexMap &map = op.maps.at(op.kind == OpKind::Contract ? operand : 0);
    GRADC_ASSERT(static_cast<int64_t>(map.size()) == src_.type.rank(),
                 "index map rank differs from its operand's");
    const int numLoops = op.numLoops();
    std::vector<int64_t> strides = src_.strides();
    for (size_t a = 0; a < map.size(); ++a) {
      Axis ax;
      ax.pos = fold(map[a].pos, symbols, numLoops);
      ax.size = src_.type.shape[a];
      ax.stride = strides[a];
      if (!map[a].isIndirect()) {
        affine_.push_back(std::move(ax));
        continue;
      }
      GRADC_ASSERT(map[a].indirect < static_cast<int>(xs.size()), "indirect operand missing");
      ax.index = xs[map[a].indirect];
      ax.indexStrides = ax.index->strides();
      GRADC_ASSERT(map[a].indirectAt.size() == ax.index->type.shape.size(),
                   "indirect index map rank differs from the index tensor's");
      for (const ir::Affine &at : map[a].indirectAt)
        ax.indexAt.push_back(fold(at, symbols, numLoops));
      indirect_.push_back(std::move(ax));
    }
  }

  /// The element at loop values `loops`: 0 where an affine position is out
  /// of bounds, a RuntimeFault where an indirect one is.
  double read(const int64_t *loops) const {
    // Affine axes first: an out-of-bounds one makes the element padding,
    // whatever an indirect index on another axis holds.
    int64_t offset = 0;
    for (const Axis &ax : affine_) {
      int64_t p = ax.pos.eval(loops, nullptr);
      if (p < 0 || p >= ax.size)
        return 0.0;
      offset += p * ax.stride;
    }
    for (const Axis &ax : indirect_) {
      int64_t p = indexValue(ax, loops) + ax.pos.eval(loops, nullptr);
      if (p < 0 || p >= ax.size)
        throw RuntimeFault(op_.loc, "index " + std::to_string(p) + " out of range [0, " +
                                        std::to_string(ax.size) + ") reading '" + name_ + "'");
      offset += p * ax.stride;
    }
    return src_.data[offset];
  }

  /// True when no axis is indirect, so that line() applies.
  bool isAffine() const { return indirect_.empty(); }
  const double *data() const { return src_.data.data(); }

  /// The reads along loop variable v for v = 0 .. extent-1: read k is
  /// data()[offset + k*step], in bounds exactly for k in [lo, hi).
  struct Line {
    int64_t lo = 0, hi = 0, offset = 0, step = 0;
  };
  /// The line through `loops` (whose entry v is ignored) along v.
  Line line(std::vector<int64_t> loops, int v, int64_t extent) const {
    GRADC_ASSERT(isAffine(), "line() of an indirect read");
    loops[v] = 0;
    Line l{0, extent, 0, 0};
    for (const Axis &ax : affine_) {
      int64_t base = ax.pos.eval(loops.data(), nullptr), c = ax.pos.coeff(v);
      // Keep the k with 0 <= base + c*k <= size - 1.
      if (c > 0) {
        l.lo = std::max(l.lo, ceilDiv(-base, c));
        l.hi = std::min(l.hi, floorDiv(ax.size - 1 - base, c) + 1);
      } else if (c < 0) {
        l.lo = std::max(l.lo, ceilDiv(base - (ax.size - 1), -c));
        l.hi = std::min(l.hi, floorDiv(base, -c) + 1);
      } else if (base < 0 || base >= ax.size) {
        l.hi = 0;
      }
      l.offset += base * ax.stride;
      l.step += c * ax.stride;
    }
    l.hi = std::max(l.hi, l.lo);
    return l;
  }

private:
  struct Axis {
    ir::Affine pos; ///< symbols folded in: only loop variables remain
    int64_t size = 0, stride = 0;
    const DTensor *index = nullptr;  ///< indirect: the int tensor read
    std::vector<ir::Affine> indexAt; ///< where it is read, folded likewise
    std::vector<int64_t> indexStrides;
  };

  /// `a` with the symbols' current values added into its constant.
  static ir::Affine fold(const ir::Affine &a, const std::vector<int64_t> &symbols, int numLoops) {
    ir::Affine r = ir::Affine::constantOf(a.constant);
    for (auto &[v, c] : a.terms) {
      if (v >= 0) {
        GRADC_ASSERT(v < numLoops, "index map uses loop d" + std::to_string(v) + " of an op with " +
                                       std::to_string(numLoops));
        r.add(v, c);
        continue;
      }
      GRADC_ASSERT(static_cast<size_t>(-v - 1) < symbols.size(), "index map symbol missing");
      r.constant += c * symbols[-v - 1];
    }
    return r;
  }

  /// The int tensor's element. Reading it out of bounds yields 0, as any
  /// affine read does (`E[tok[b, t-1], j]` at t = 0 reads row 0).
  static int64_t indexValue(const Axis &ax, const int64_t *loops) {
    int64_t offset = 0;
    for (size_t a = 0; a < ax.indexAt.size(); ++a) {
      int64_t p = ax.indexAt[a].eval(loops, nullptr);
      if (p < 0 || p >= ax.index->type.shape[a])
        return 0;
      offset += p * ax.indexStrides[a];
    }
    return static_cast<int64_t>(ax.index->data[offset]);
  }

  const ir::Op &op_;
  const DTensor &src_;
  const std::string &name_;
  std::vector<Axis> affine_, indirect_;
};

} // namespace

DTensor evalRemap(const ir::Op &op, const Operands &xs, const std::vector<int64_t> &symbols) {
  MapReader src(op, 0, xs, symbols);
  DTensor r = DTensor::zeros(op.result()->type);
  std::vector<int64_t> idx(r.type.shape.size(), 0);
  size_t i = 0;
  do
    r.data[i++] = src.read(idx.data());
  while (advance(idx, r.type.shape));
  return r;
}

DTensor evalContract(const ir::Op &op, const Operands &xs, const std::vector<int64_t> &symbols) {
  std::vector<MapReader> factors;
  for (size_t k = 0; k < xs.size(); ++k)
    factors.emplace_back(op, static_cast<int>(k), xs, symbols);
  DTensor r = DTensor::zeros(op.result()->type);
  const int rank = static_cast<int>(r.type.shape.size());
  // Loop variables as the maps number them: result axes, then reductions.
  std::vector<int64_t> extents = r.type.shape;
  extents.insert(extents.end(), op.reductionSizes.begin(), op.reductionSizes.end());
  if (extents.empty()) { // a product of scalars
    r.data[0] = 1;
    for (const MapReader &f : factors)
      r.data[0] *= f.read(nullptr);
    return r;
  }
  // The innermost loop runs as a line per factor (runtime bounds solved once
  // per line, not per element); all outer loops are stepped by an odometer.
  const int inner = static_cast<int>(extents.size()) - 1;
  const int64_t n = extents[inner];
  const std::vector<int64_t> rowExtents(extents.begin(), extents.end() - 1);
  const std::vector<int64_t> outStrides = r.strides();
  const int64_t outStep = inner < rank ? outStrides[inner] : 0;
  std::vector<int64_t> loops(extents.size(), 0), row(rowExtents.size(), 0);
  // Per factor, its run along the inner loop: element k is
  // ptr[f][offset[f] + k*step[f]].
  std::vector<const double *> ptr(factors.size());
  std::vector<int64_t> offset(factors.size()), step(factors.size());
  std::vector<std::vector<double>> gathered(factors.size());
  do {
    std::copy(row.begin(), row.end(), loops.begin());
    int64_t out = 0;
    for (int a = 0; a < rank && a < inner; ++a)
      out += loops[a] * outStrides[a];
    int64_t lo = 0, hi = n;
    for (size_t f = 0; f < factors.size(); ++f) {
      if (factors[f].isAffine()) {
        MapReader::Line l = factors[f].line(loops, inner, n);
        lo = std::max(lo, l.lo);
        hi = std::min(hi, l.hi);
        ptr[f] = factors[f].data();
        offset[f] = l.offset;
        step[f] = l.step;
        continue;
      }
      // An indirect read is made at every point, so that an out-of-range
      // index faults even where another factor is padding.
      gathered[f].resize(n);
      for (int64_t k = 0; k < n; ++k) {
        loops[inner] = k;
        gathered[f][k] = factors[f].read(loops.data());
      }
      ptr[f] = gathered[f].data();
      offset[f] = 0;
      step[f] = 1;
    }
    // Raw pointers keep this loop, where all the time goes, cheap even in
    // unoptimized builds.
    const double *const *p = ptr.data();
    const int64_t *off = offset.data(), *st = step.data();
    const size_t nf = factors.size();
    double *dst = r.data.data() + out;
    for (int64_t k = lo; k < hi; ++k) {
      double prod = 1;
      for (size_t f = 0; f < nf; ++f)
        prod *= p[f][off[f] + k * st[f]];
      dst[k * outStep] += prod;
    }
  } while (advance(row, rowExtents));
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
