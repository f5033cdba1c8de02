//===- passes/GradRules.cpp - One gradient rule per op ----------------------===//
//
// Each rule receives g, the adjoint of the op's result, and adds the
// adjoint of each operand: the derivative written above it, times g. Rules
// reuse forward values where the derivative is expressed through them
// (σ' = σ(1 − σ), tanh' = 1 − tanh²), and never build ×1 or +0.
//
//===----------------------------------------------------------------------===//
#include "passes/AutodiffImpl.h"

#include "support/Assert.h"

#include <algorithm>

namespace gradc::passes {

using namespace ir;

namespace {

/// A remap that broadcasts `g` (the result of reducing `x` over `axes`)
/// back to x's shape.
Value *expand(Builder &B, Value *g, const Value *x, const std::vector<int> &axes) {
  IndexMap map;
  for (int i = 0; i < x->type.rank(); ++i)
    if (!std::binary_search(axes.begin(), axes.end(), i))
      map.push_back({Affine::var(i), -1, {}});
  return B.remap(g, map, x->type.shape);
}

/// The map under which loop point L of a contraction accumulates into its
/// result: the output map, or the first result-rank loops.
IndexMap resultPositions(const Op &op) {
  if (!op.outMap.empty())
    return op.outMap;
  return identityMap(static_cast<int>(op.result()->type.rank()));
}

std::vector<int64_t> loopSizes(const Op &op) {
  if (!op.outMap.empty())
    return op.reductionSizes;
  std::vector<int64_t> s = op.result()->type.shape;
  s.insert(s.end(), op.reductionSizes.begin(), op.reductionSizes.end());
  return s;
}

} // namespace

void Differentiator::rule(Op &op, const std::vector<Value *> &gs) {
  Value *g = gs.empty() ? nullptr : gs[0];
  Value *y = op.results.empty() ? nullptr : op.result();
  auto x = [&](int i) { return op.operands[i]; };
  auto c = [&](double v) { return B.constant(v); };
  auto mul = [&](Value *a, Value *b) { return B.binary(OpKind::Mul, a, b); };
  auto sub = [&](Value *a, Value *b) { return B.binary(OpKind::Sub, a, b); };
  auto div = [&](Value *a, Value *b) { return B.binary(OpKind::Div, a, b); };
  auto cmp = [&](OpKind k, Value *a, Value *b) { return B.binary(k, a, b); };
  // A masked adjoint (zero where a where() did not select this branch)
  // stays masked; where the derivative itself may be infinite or NaN, the
  // contribution is selected to 0 wherever the adjoint is 0.
  bool masked = g && masked_.count(g);
  bool unbounded = op.kind == OpKind::Log || op.kind == OpKind::Div || op.kind == OpKind::Sqrt ||
                   op.kind == OpKind::Rsqrt || op.kind == OpKind::PowC || op.kind == OpKind::Exp ||
                   op.kind == OpKind::Mul;
  // v where it is finite, else 0 (NaN fails the comparison too).
  auto finite = [&](Value *v) {
    return B.where(cmp(OpKind::Lt, B.unary(OpKind::Abs, v), c(3.4e38)), v, c(0));
  };
  auto grad = [&](int i, auto make) {
    if (!needs(x(i)))
      return;
    Value *contribution = make();
    if (masked && unbounded && contribution != g)
      contribution = B.where(B.binary(OpKind::Ne, g, B.constant(0)), contribution, B.constant(0));
    if (masked)
      masked_.insert(contribution);
    accumulate(x(i), contribution);
  };
  switch (op.kind) {
  // Leaves and values without a derivative.
  case OpKind::Input:
  case OpKind::Param:
  case OpKind::State:
  case OpKind::Noise:
  case OpKind::Constant:
  case OpKind::Iota:
  case OpKind::StopGrad:
  case OpKind::ArgMax:
  case OpKind::Lt:
  case OpKind::Le:
  case OpKind::Gt:
  case OpKind::Ge:
  case OpKind::Eq:
  case OpKind::Ne:
  case OpKind::Yield:
    return;

  // d/dx (-x) = -1
  case OpKind::Neg:
    return grad(0, [&] { return B.unary(OpKind::Neg, g); });
  // d/dx e^x = e^x
  case OpKind::Exp:
    return grad(0, [&] { return mul(g, y); });
  // d/dx log x = 1/x
  case OpKind::Log:
    return grad(0, [&] { return div(g, x(0)); });
  // d/dx √x = 1/(2√x)
  case OpKind::Sqrt:
    return grad(0, [&] { return div(g, mul(c(2), y)); });
  // d/dx x^(-1/2) = -x^(-3/2)/2 = -y³/2
  case OpKind::Rsqrt:
    return grad(0, [&] { return mul(g, mul(c(-0.5), B.powc(y, 3))); });
  // d/dx |x| = sign x, and 0 at 0
  case OpKind::Abs:
    return grad(0, [&] {
      return mul(g, sub(cmp(OpKind::Gt, x(0), c(0)), cmp(OpKind::Lt, x(0), c(0))));
    });
  // d/dx tanh x = 1 - tanh² x
  case OpKind::Tanh:
    return grad(0, [&] { return mul(g, sub(c(1), mul(y, y))); });
  // d/dx σ(x) = σ(x)(1 - σ(x))
  case OpKind::Sigmoid:
    return grad(0, [&] { return mul(g, mul(y, sub(c(1), y))); });
  // d/dx relu x = [x > 0], so 0 at 0
  case OpKind::Relu:
    return grad(0, [&] { return mul(g, cmp(OpKind::Gt, x(0), c(0))); });
  // d/dx log(1 + e^x) = σ(x)
  case OpKind::Softplus:
    return grad(0, [&] { return mul(g, B.unary(OpKind::Sigmoid, x(0))); });
  // d/dx sin x = cos x
  case OpKind::Sin:
    return grad(0, [&] { return mul(g, B.unary(OpKind::Cos, x(0))); });
  // d/dx cos x = -sin x
  case OpKind::Cos:
    return grad(0, [&] { return B.unary(OpKind::Neg, mul(g, B.unary(OpKind::Sin, x(0)))); });
  // d/dx x^p = p x^(p-1)
  case OpKind::PowC:
    return grad(0, [&] {
      double p = op.value;
      if (p == 0) // x^0 = 1 everywhere, 0^0 included
        return B.constant(0.0, x(0)->type.shape);
      if (p == 1)
        return g;
      if (p == 2)
        return mul(g, mul(c(2), x(0)));
      return mul(g, mul(c(p), B.powc(x(0), p - 1)));
    });

  // d(a + b) = da + db
  case OpKind::Add:
    grad(0, [&] { return g; });
    return grad(1, [&] { return g; });
  // d(a - b) = da - db
  case OpKind::Sub:
    grad(0, [&] { return g; });
    return grad(1, [&] { return B.unary(OpKind::Neg, g); });
  // d(a b) = b da + a db
  case OpKind::Mul:
    grad(0, [&] { return mul(g, x(1)); });
    return grad(1, [&] { return mul(g, x(0)); });
  // d(a / b) = da / b - (a / b²) db = da / b - y db / b
  case OpKind::Div:
    grad(0, [&] { return div(g, x(1)); });
    return grad(1, [&] { return B.unary(OpKind::Neg, div(mul(g, y), x(1))); });
  // max(a, b): the gradient goes to a where a >= b (ties to the first). It
  // selects like where(), so the branch not taken is masked the same way.
  case OpKind::Max: {
    masked = true;
    Value *first = cmp(OpKind::Ge, x(0), x(1));
    grad(0, [&] { return B.where(first, g, c(0)); });
    return grad(1, [&] { return B.where(first, c(0), g); });
  }
  // min(a, b): to a where a <= b
  case OpKind::Min: {
    masked = true;
    Value *first = cmp(OpKind::Le, x(0), x(1));
    grad(0, [&] { return B.where(first, g, c(0)); });
    return grad(1, [&] { return B.where(first, c(0), g); });
  }
  // leaky_relu(x, a) = x if x > 0 else a x: d/dx = 1 or a, d/da = 0 or x
  case OpKind::LeakyRelu: {
    Value *pos = cmp(OpKind::Gt, x(0), c(0));
    grad(0, [&] { return mul(g, B.where(pos, c(1), x(1))); });
    return grad(1, [&] { return mul(g, B.where(pos, c(0), x(0))); });
  }
  // where(c, a, b): the gradient goes only to the selected branch, selected
  // (not multiplied by a mask), so an infinity in the other branch never
  // turns into a NaN here.
  case OpKind::Where:
    masked = true;
    grad(1, [&] { return B.where(x(0), g, c(0)); });
    return grad(2, [&] { return B.where(x(0), c(0), g); });

  // remap reads src[map(d)]: its adjoint scatters g back through the same
  // map (padding gets nothing; an indirect index gets no gradient).
  case OpKind::Remap:
    return grad(0, [&] {
      std::vector<Value *> ind(op.operands.begin() + 1, op.operands.end());
      return B.scatterAdd(g, op.maps[0], x(0)->type.shape, ind, op.symbols);
    });
  // scatter_add writes out[map(d)] += src[d]: its adjoint reads g through it.
  case OpKind::ScatterAdd:
    return grad(0, [&] {
      std::vector<Value *> ind(op.operands.begin() + 1, op.operands.end());
      return B.remap(g, op.maps[0], x(0)->type.shape, ind, op.symbols);
    });
  // y[P(L)] += prod_j f_j[m_j(L)]: d f_k[m_k(L)] += g[P(L)] prod_{j != k} f_j[m_j(L)],
  // a contraction over the same loops accumulating through f_k's map.
  case OpKind::Contract:
    for (size_t k = 0; k < op.operands.size(); ++k) {
      if (!needs(x(static_cast<int>(k))))
        continue;
      B.setLoc(op.loc);
      std::vector<Value *> factors{g};
      std::vector<IndexMap> maps{resultPositions(op)};
      for (size_t j = 0; j < op.operands.size(); ++j)
        if (j != k) {
          // Under a masked adjoint an infinite factor would meet the zeros
          // of the untaken branch inside the sum: 0·inf. Such factors count
          // as 0 there (the adjoint is 0 wherever they could matter).
          factors.push_back(masked ? finite(op.operands[j]) : op.operands[j]);
          maps.push_back(op.maps[j]);
        }
      Value *r = B.contractInto(factors, maps, op.maps[k], x(static_cast<int>(k))->type.shape,
                                loopSizes(op), op.symbols);
      r = simplifyContract(B, r);
      if (masked)
        masked_.insert(r);
      accumulate(x(static_cast<int>(k)), r);
    }
    return;

  // d/dx sum(x) = 1 at every reduced position
  case OpKind::ReduceSum:
    return grad(0, [&] { return expand(B, g, x(0), op.axes); });
  // max and min: the gradient goes to the first extreme element, found by
  // argmax (of -x for min) and scattered through an indirect index.
  case OpKind::ReduceMax:
  case OpKind::ReduceMin:
    return grad(0, [&] {
      if (op.axes.size() != 1) { // hand-written IR: every tied element
        Value *hit = cmp(OpKind::Eq, x(0), expand(B, y, x(0), op.axes));
        return mul(expand(B, g, x(0), op.axes), hit);
      }
      int a = op.axes[0];
      Value *src = op.kind == OpKind::ReduceMax ? x(0) : B.unary(OpKind::Neg, x(0));
      Value *idx = B.reduce(OpKind::ArgMax, src, {a});
      IndexMap map;
      int k = 0;
      for (int i = 0; i < x(0)->type.rank(); ++i) {
        if (i == a) {
          AxisIndex ai;
          ai.indirect = 1;
          for (int j = 0; j < g->type.rank(); ++j)
            ai.indirectAt.push_back(Affine::var(j));
          map.push_back(ai);
        } else {
          map.push_back({Affine::var(k++), -1, {}});
        }
      }
      return B.scatterAdd(g, map, x(0)->type.shape, {idx});
    });
  // d/dx logsumexp(x) = softmax(x) = exp(x - y)
  case OpKind::LogSumExp:
    return grad(0, [&] {
      return mul(expand(B, g, x(0), op.axes),
                 B.unary(OpKind::Exp, sub(x(0), expand(B, y, x(0), op.axes))));
    });
  // softmax: dx = y (g - sum(g y))
  case OpKind::Softmax:
    return grad(0, [&] {
      Value *s = B.reduce(OpKind::ReduceSum, mul(g, y), op.axes);
      return mul(y, sub(g, expand(B, s, y, op.axes)));
    });
  // log_softmax: dx = g - exp(y) sum(g)
  case OpKind::LogSoftmax:
    return grad(0, [&] {
      Value *s = B.reduce(OpKind::ReduceSum, g, op.axes);
      return sub(g, mul(B.unary(OpKind::Exp, y), expand(B, s, y, op.axes)));
    });

  case OpKind::Recurrence:
    return recurrenceRule(op, gs);
  }
  GRADC_UNREACHABLE(std::string("no gradient rule for ") + op.mnemonic());
}

} // namespace gradc::passes
