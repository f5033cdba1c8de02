//===- codegen/EmitGemm.cpp - Contractions shaped like matrix products ----===//
//
// A plain contraction of two factors is a (batched) matrix product when
// every loop variable appears at most once per factor, with coefficient 1:
//
//   result variables in the first factor only    M (rows)
//   result variables in the second factor only   N (columns)
//   reduction variables in both factors          K
//   result variables in both factors             batch (a loop of calls)
//
// and the variables of each group collapse into one dimension with one
// stride in every tensor they index (h[b, t, k]·W[j, k] over b, t: the rows
// b·T + t are evenly spaced). The rest of each position (constants, step
// variables, batch variables) is a base offset, which must be provably in
// bounds: no padding reaches the GEMM kernel. Row-major C = A·B then maps to
// one sgemm call with transpose flags and leading dimensions; a result laid
// out column-major is computed as Cᵀ = Bᵀ·Aᵀ.
//
//===----------------------------------------------------------------------===//
#include "codegen/Emitter.h"

#include "codegen/KernelAbi.h"
#include "support/Assert.h"

#include <optional>

namespace gradc::codegen {

namespace {

/// One collapsed dimension: its extent and its stride in each tensor (0
/// where the tensor does not have it).
struct Dim {
  int64_t extent = 1;
  int64_t stride[3] = {0, 0, 0}; ///< in A, B, C
};

struct GemmShape {
  Dim m, n, k;
  std::vector<int> batch;          ///< batch loop variables
  std::vector<int> varAxis[3];     ///< per tensor, loop variable -> axis (-1)
  bool ok = false;
};

std::vector<int64_t> stridesOf(const std::vector<int64_t> &shape) {
  std::vector<int64_t> s(shape.size(), 1);
  for (size_t a = s.size(); a-- > 1;)
    s[a - 1] = s[a] * shape[a];
  return s;
}

/// Collapses loop variables `vars` (each with its extent and strides) into
/// one dimension, when they are evenly spaced in every tensor in `tensors`.
std::optional<Dim> collapse(std::vector<int> vars, const std::vector<int64_t> &extents,
                            const std::vector<int64_t> strides[3], std::initializer_list<int> tensors) {
  Dim d;
  // Extent-1 variables place nothing.
  std::erase_if(vars, [&](int v) { return extents[v] == 1; });
  if (vars.empty())
    return d;
  int lead = *tensors.begin();
  std::sort(vars.begin(), vars.end(),
            [&](int a, int b) { return strides[lead][a] > strides[lead][b]; });
  for (size_t i = 0; i + 1 < vars.size(); ++i)
    for (int t : tensors)
      if (strides[t][vars[i]] != strides[t][vars[i + 1]] * extents[vars[i + 1]])
        return std::nullopt;
  for (int v : vars)
    d.extent *= extents[v];
  for (int t : tensors)
    d.stride[t] = strides[t][vars.back()];
  return d;
}

} // namespace

static GemmShape gemmShape(const Emitter &E, const ir::Op &op) {
  GemmShape g;
  if (op.kind != ir::OpKind::Contract || !op.outMap.empty() || op.operands.size() != 2)
    return g;
  const std::vector<int64_t> &rshape = op.result()->type.shape;
  const int R = static_cast<int>(rshape.size());
  std::vector<int64_t> extents = rshape;
  extents.insert(extents.end(), op.reductionSizes.begin(), op.reductionSizes.end());
  const int L = static_cast<int>(extents.size());
  std::vector<int64_t> strides[3];
  for (int t = 0; t < 3; ++t) {
    g.varAxis[t].assign(L, -1);
    strides[t].assign(L, 0);
  }
  for (int t = 0; t < 2; ++t) {
    const ir::Value *x = op.operand(t);
    if (E.plan().isInlined(x) || E.plan().slot(x).kind == Slot::Inline ||
        x->type.dtype != ir::DType::F32)
      return g; // no storage to hand the GEMM kernel
    const ir::IndexMap &m = op.maps[t];
    std::vector<int64_t> st = stridesOf(x->type.shape);
    for (size_t a = 0; a < m.size(); ++a) {
      if (m[a].isIndirect())
        return g;
      auto [lo, hi] = E.range(op, m[a].pos, extents);
      if (lo < 0 || hi >= x->type.shape[a])
        return g; // padding
      int var = -1;
      for (auto &[v, c] : m[a].pos.terms) {
        if (v < 0)
          continue;
        if (c != 1 || var >= 0 || g.varAxis[t][v] >= 0)
          return g;
        var = v;
      }
      if (var >= 0) {
        g.varAxis[t][var] = static_cast<int>(a);
        strides[t][var] = st[a];
      }
    }
  }
  std::vector<int64_t> cst = stridesOf(rshape);
  for (int v = 0; v < R; ++v) {
    g.varAxis[2][v] = v;
    strides[2][v] = cst[v];
  }
  std::vector<int> ms, ns, ks;
  for (int v = 0; v < L; ++v) {
    bool inA = g.varAxis[0][v] >= 0, inB = g.varAxis[1][v] >= 0;
    if (v < R) {
      if (inA && inB)
        g.batch.push_back(v);
      else if (inA)
        ms.push_back(v);
      else if (inB)
        ns.push_back(v);
      else if (extents[v] != 1)
        return g; // a result axis neither factor has: a broadcast
    } else if (inA && inB) {
      ks.push_back(v);
    } else if (extents[v] != 1) {
      return g; // a sum over one factor alone
    }
  }
  auto m = collapse(ms, extents, strides, {2, 0});
  auto n = collapse(ns, extents, strides, {2, 1});
  auto k = collapse(ks, extents, strides, {0, 1});
  if (!m || !n || !k)
    return g;
  g.m = *m;
  g.n = *n;
  g.k = *k;
  g.ok = true;
  return g;
}

/// How a GemmShape maps to one row-major sgemm call.
struct Layout {
  bool swap = false; ///< computes Cᵀ = Bᵀ·Aᵀ (the result is column-major)
  bool transA = false, transB = false;
  int64_t rows = 1, cols = 1, k = 1, lda = 1, ldb = 1, ldc = 1;
  int a = 0, b = 1; ///< which factor plays A and which B
};

/// Fills `l` for `g`; false when some tensor has no unit stride along the
/// dimension BLAS needs one or its leading dimension is too short.
static bool layoutOf(const GemmShape &g, Layout &l) {
  if (g.n.extent > 1 && g.n.stride[2] == 1)
    l.swap = false;
  else if (g.m.extent > 1 && g.m.stride[2] == 1)
    l.swap = true;
  else if (g.n.extent > 1)
    return false;
  const Dim &rows = l.swap ? g.n : g.m, &cols = l.swap ? g.m : g.n, &k = g.k;
  l.a = l.swap ? 1 : 0;
  l.b = l.swap ? 0 : 1;
  l.rows = rows.extent;
  l.cols = cols.extent;
  l.k = k.extent;
  l.ldc = rows.extent > 1 ? rows.stride[2] : cols.extent;
  if (l.ldc < cols.extent)
    return false;
  // A: rows × K.
  if (k.extent == 1 || k.stride[l.a] == 1) {
    l.lda = rows.extent > 1 ? rows.stride[l.a] : k.extent;
    if (l.lda < k.extent)
      return false;
  } else if (rows.extent == 1 || rows.stride[l.a] == 1) {
    l.transA = true;
    l.lda = k.stride[l.a];
    if (l.lda < rows.extent)
      return false;
  } else {
    return false;
  }
  // B: K × cols.
  if (cols.extent == 1 || cols.stride[l.b] == 1) {
    l.ldb = k.extent > 1 ? k.stride[l.b] : cols.extent;
    if (l.ldb < cols.extent)
      return false;
  } else if (k.extent == 1 || k.stride[l.b] == 1) {
    l.transB = true;
    l.ldb = cols.stride[l.b];
    if (l.ldb < k.extent)
      return false;
  } else {
    return false;
  }
  return true;
}

bool Emitter::isGemm(const ir::Op &op) const {
  GemmShape g = gemmShape(*this, op);
  Layout l;
  if (!g.ok || !layoutOf(g, l))
    return false;
  int64_t flops = g.m.extent * g.n.extent * g.k.extent;
  return flops >= opts_.gemmMinFlops && g.m.extent > 1 && g.n.extent > 1;
}

void Emitter::emitGemm(const ir::Op &op) {
  GemmShape g = gemmShape(*this, op);
  Layout l;
  GRADC_ASSERT(g.ok && layoutOf(g, l), "emitGemm() of a contraction that is not a matrix product");
  std::vector<int64_t> extents = op.result()->type.shape;
  extents.insert(extents.end(), op.reductionSizes.begin(), op.reductionSizes.end());
  std::vector<int64_t> batchExtents;
  for (int v : g.batch)
    batchExtents.push_back(extents[v]);
  // The offset of each factor at loop point 0 of its M/N/K variables: the
  // positions with those variables set to zero.
  auto baseOf = [&](int t, const Loops &batch) -> llvm::Value * {
    const ir::Value *x = t == 2 ? op.result() : op.operand(t);
    std::vector<int64_t> st = stridesOf(x->type.shape);
    Loops loops(extents.size(), c64(0));
    for (size_t i = 0; i < g.batch.size(); ++i)
      loops[g.batch[i]] = batch[i];
    llvm::Value *off = c64(0);
    if (t < 2) {
      const ir::IndexMap &m = op.maps[t];
      for (size_t ax = 0; ax < m.size(); ++ax) {
        ir::Affine pos = m[ax].pos;
        llvm::Value *p = c64(pos.constant);
        for (auto &[v, c] : pos.terms) {
          llvm::Value *val = v >= 0 ? loops[v] : stepValue(op.symbols.at(-v - 1));
          p = b_->CreateAdd(p, b_->CreateMul(val, c64(c)));
        }
        off = b_->CreateAdd(off, b_->CreateMul(p, c64(st[ax])));
      }
    } else {
      for (int v : g.batch)
        off = b_->CreateAdd(off, b_->CreateMul(loops[v], c64(st[v])));
    }
    return b_->CreateGEP(f32(), base(x), off);
  };
  llvm::FunctionCallee sgemm = module().getOrInsertFunction(
      "gradc_rt_sgemm", b_->getVoidTy(), ptr(), i32(), i32(), i64(), i64(), i64(), ptr(), i64(),
      ptr(), i64(), ptr(), i64());
  llvm::Value *pool = b_->CreateLoad(ptr(), b_->CreateStructGEP(ctxTy_, kernel().ctx, 3), "pool");
  loopNest(batchExtents, false, [&](const Loops &batch) {
    b_->CreateCall(sgemm, {pool, b_->getInt32(l.transA), b_->getInt32(l.transB), c64(l.rows),
                           c64(l.cols), c64(l.k), baseOf(l.a, batch), c64(l.lda),
                           baseOf(l.b, batch), c64(l.ldb), baseOf(2, batch), c64(l.ldc)});
  });
}

} // namespace gradc::codegen
