//===- runtime/InterpreterMaps.cpp - Kernels of the index-map ops ---------===//
//
// remap, scatter_add and contract: the ops that position the tensors they
// touch through index maps (ir/IndexMap.h). remap reads its source through
// its map; scatter_add, remap's adjoint, adds into its result through the
// same kind of map; contract reads every factor through one map each and,
// with an output map, also accumulates into its result through one.
//
//===----------------------------------------------------------------------===//
#include "runtime/InterpreterOps.h"

#include "support/Assert.h"

#include <algorithm>
#include <string>

namespace gradc::runtime::interp {

using ir::OpKind;

namespace {

int64_t floorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}
int64_t ceilDiv(int64_t a, int64_t b) { return -floorDiv(-a, b); }

std::vector<int64_t> stridesOf(const std::vector<int64_t> &shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (size_t a = s.size(); a-- > 1;)
    s[a - 1] = s[a] * shape[a];
  return s;
}

bool hasZeroExtent(const std::vector<int64_t> &extents) {
  return std::find(extents.begin(), extents.end(), 0) != extents.end();
}

/// Where one index map places the op's loop points in one tensor: an
/// operand read, or the result written. Symbols are folded into the affine
/// constants once per op execution, and strides are precomputed, so that a
/// position costs a few multiply-adds per axis.
class Access {
public:
  /// `map` positions a tensor of `shape`; its indirect axes read int
  /// operands of `xs`. `what` ("reading 'E'") ends the message of the fault
  /// an out-of-range indirect position raises.
  Access(const ir::Op &op, const ir::IndexMap &map, const std::vector<int64_t> &shape,
         const Operands &xs, const std::vector<int64_t> &symbols, std::string what)
      : op_(op), what_(std::move(what)) {
    GRADC_ASSERT(map.size() == shape.size(), "index map rank differs from its tensor's");
    const int numLoops = op.numLoops();
    std::vector<int64_t> strides = stridesOf(shape);
    for (size_t a = 0; a < map.size(); ++a) {
      Axis ax;
      ax.pos = fold(map[a].pos, symbols, numLoops);
      ax.size = shape[a];
      ax.stride = strides[a];
      if (!map[a].isIndirect()) {
        affine_.push_back(std::move(ax));
        continue;
      }
      GRADC_ASSERT(map[a].indirect > 0 && map[a].indirect < static_cast<int>(xs.size()),
                   "indirect operand missing");
      ax.index = xs[map[a].indirect];
      ax.indexStrides = ax.index->strides();
      GRADC_ASSERT(map[a].indirectAt.size() == ax.index->type.shape.size(),
                   "indirect index map rank differs from the index tensor's");
      for (const ir::Affine &at : map[a].indirectAt)
        ax.indexAt.push_back(fold(at, symbols, numLoops));
      indirect_.push_back(std::move(ax));
    }
  }

  /// The linear offset of loop point `loops`, or -1 where an affine axis is
  /// out of bounds (padding); a RuntimeFault where an indirect one is.
  int64_t offset(const int64_t *loops) const {
    // Affine axes first: an out-of-bounds one makes the element padding,
    // whatever an indirect index on another axis holds.
    int64_t offset = 0;
    for (const Axis &ax : affine_) {
      int64_t p = ax.pos.eval(loops, nullptr);
      if (p < 0 || p >= ax.size)
        return -1;
      offset += p * ax.stride;
    }
    for (const Axis &ax : indirect_) {
      int64_t p = indexValue(ax, loops) + ax.pos.eval(loops, nullptr);
      if (p < 0 || p >= ax.size)
        throw RuntimeFault(op_.loc, "index " + std::to_string(p) + " out of range [0, " +
                                        std::to_string(ax.size) + ") " + what_);
      offset += p * ax.stride;
    }
    return offset;
  }

  /// True when no axis is indirect, so that line() applies.
  bool isAffine() const { return indirect_.empty(); }

  /// The positions along loop variable v for v = 0 .. extent-1: position k
  /// is offset + k*step, in bounds exactly for k in [lo, hi).
  struct Line {
    int64_t lo = 0, hi = 0, offset = 0, step = 0;
  };
  /// The line through `loops` (whose entry v is ignored) along v.
  Line line(std::vector<int64_t> loops, int v, int64_t extent) const {
    GRADC_ASSERT(isAffine(), "line() of an indirect map");
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
        GRADC_ASSERT(v < numLoops, "index map uses loop " + std::to_string(v) + " of an op with " +
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
  std::string what_;
  std::vector<Axis> affine_, indirect_;
};

/// Reads operand k of an op through `map`: 0 where an affine position is
/// out of bounds.
class MapReader {
public:
  MapReader(const ir::Op &op, const ir::IndexMap &map, const Operands &xs, int k,
            const std::vector<int64_t> &symbols)
      : src_(*xs[k]),
        access_(op, map, src_.type.shape, xs, symbols, "reading '" + op.operand(k)->name + "'") {}

  double read(const int64_t *loops) const {
    int64_t offset = access_.offset(loops);
    return offset < 0 ? 0.0 : src_.data[offset];
  }
  const Access &access() const { return access_; }
  const double *data() const { return src_.data.data(); }

private:
  const DTensor &src_;
  Access access_;
};

} // namespace

DTensor evalRemap(const ir::Op &op, const Operands &xs, const std::vector<int64_t> &symbols) {
  MapReader src(op, op.maps.at(0), xs, 0, symbols);
  DTensor r = DTensor::zeros(op.result()->type);
  if (r.data.empty())
    return r;
  std::vector<int64_t> idx(r.type.shape.size(), 0);
  size_t i = 0;
  do
    r.data[i++] = src.read(idx.data());
  while (advance(idx, r.type.shape));
  return r;
}

DTensor evalScatterAdd(const ir::Op &op, const Operands &xs, const std::vector<int64_t> &symbols) {
  const DTensor &src = *xs.at(0);
  DTensor r = DTensor::zeros(op.result()->type);
  Access dst(op, op.maps.at(0), r.type.shape, xs, symbols,
             "scattering into '" + op.result()->name + "'");
  const std::vector<int64_t> &shape = src.type.shape;
  if (src.data.empty())
    return r;
  double *out = r.data.data();
  if (!dst.isAffine() || shape.empty()) {
    // Element by element in C order, so that an out-of-range index faults
    // at the first source element that has one.
    std::vector<int64_t> idx(shape.size(), 0);
    size_t i = 0;
    do {
      int64_t o = dst.offset(idx.data());
      if (o >= 0)
        out[o] += src.data[i];
      ++i;
    } while (advance(idx, shape));
    return r;
  }
  // An affine map: one line along the innermost source axis at a time, with
  // its in-bounds range solved once per line.
  const int inner = static_cast<int>(shape.size()) - 1;
  const int64_t n = shape[inner];
  const std::vector<int64_t> rowShape(shape.begin(), shape.end() - 1);
  std::vector<int64_t> row(rowShape.size(), 0), loops(shape.size(), 0);
  const double *in = src.data.data();
  do {
    std::copy(row.begin(), row.end(), loops.begin());
    Access::Line l = dst.line(loops, inner, n);
    for (int64_t k = l.lo; k < l.hi; ++k)
      out[l.offset + k * l.step] += in[k];
    in += n;
  } while (advance(row, rowShape));
  return r;
}

DTensor evalContract(const ir::Op &op, const Operands &xs, const std::vector<int64_t> &symbols) {
  GRADC_ASSERT(op.maps.size() == xs.size(), "contract operand/map count");
  std::vector<MapReader> factors;
  for (size_t k = 0; k < xs.size(); ++k)
    factors.emplace_back(op, op.maps[k], xs, static_cast<int>(k), symbols);
  DTensor r = DTensor::zeros(op.result()->type);
  const int rank = static_cast<int>(r.type.shape.size());
  // Loop variables as the maps number them: result axes, then reductions;
  // with an output map, the listed loops alone. A plain contract is the
  // case whose output map is the identity over its first `rank` loops.
  const bool into = !op.outMap.empty();
  std::vector<int64_t> extents = op.reductionSizes;
  if (!into)
    extents.insert(extents.begin(), r.type.shape.begin(), r.type.shape.end());
  const Access out(op, into ? op.outMap : ir::identityMap(rank), r.type.shape, xs, symbols,
                   "writing the result");
  GRADC_ASSERT(out.isAffine(), "contract output map with an indirect axis");
  if (r.data.empty() || hasZeroExtent(extents))
    return r;
  if (extents.empty()) { // a product of scalars, placed at a constant position
    double prod = 1;
    for (const MapReader &f : factors)
      prod *= f.read(nullptr);
    if (int64_t o = out.offset(nullptr); o >= 0)
      r.data[o] += prod;
    return r;
  }
  // The innermost loop runs as a line per factor and for the result (runtime
  // bounds solved once per line, not per element); all outer loops are
  // stepped by an odometer.
  const int inner = static_cast<int>(extents.size()) - 1;
  const int64_t n = extents[inner];
  const std::vector<int64_t> rowExtents(extents.begin(), extents.end() - 1);
  std::vector<int64_t> loops(extents.size(), 0), row(rowExtents.size(), 0);
  // Per factor, its run along the inner loop: element k is
  // ptr[f][offset[f] + k*step[f]].
  std::vector<const double *> ptr(factors.size());
  std::vector<int64_t> offset(factors.size()), step(factors.size());
  std::vector<std::vector<double>> gathered(factors.size());
  do {
    std::copy(row.begin(), row.end(), loops.begin());
    const Access::Line dst = out.line(loops, inner, n);
    int64_t lo = dst.lo, hi = dst.hi;
    for (size_t f = 0; f < factors.size(); ++f) {
      if (factors[f].access().isAffine()) {
        Access::Line l = factors[f].access().line(loops, inner, n);
        lo = std::max(lo, l.lo);
        hi = std::min(hi, l.hi);
        ptr[f] = factors[f].data();
        offset[f] = l.offset;
        step[f] = l.step;
        continue;
      }
      // An indirect read is made at every point, so that an out-of-range
      // index faults even where another factor (or the result) is padding.
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
    double *res = r.data.data();
    for (int64_t k = lo; k < hi; ++k) {
      double prod = 1;
      for (size_t f = 0; f < nf; ++f)
        prod *= p[f][off[f] + k * st[f]];
      res[dst.offset + k * dst.step] += prod;
    }
  } while (advance(row, rowExtents));
  return r;
}

} // namespace gradc::runtime::interp
