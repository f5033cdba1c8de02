//===- notation/EqRender.cpp - IR values as expressions in index notation -===//
#include "notation/EqRender.h"

#include <algorithm>

namespace gradc::notation {

using namespace ir;

View View::identity(std::string name, int rank) {
  View v;
  v.name = std::move(name);
  for (int a = 0; a < rank; ++a)
    v.slots.push_back({a, {}, 0});
  return v;
}

int Renderer::stepVar(Line &L, int depth) const {
  for (size_t i = 0; i < L.vars.size(); ++i)
    if (L.vars[i].level == depth)
      return static_cast<int>(i);
  int64_t steps = depth < static_cast<int>(loopSteps.size()) ? loopSteps[depth] : 0;
  int v = L.newVar(steps, depth);
  if (depth < static_cast<int>(loopNames.size()))
    L.vars[v].name = loopNames[depth];
  return v;
}

DIndex Renderer::fresh(Line &L, int64_t size, std::vector<int> &bound) const {
  if (size == 1) // a sum over one position is that position
    return DIndex::of(0);
  int v = L.newVar(size);
  bound.push_back(v);
  return DIndex::var(v);
}

DIndex Renderer::eval(Line &L, const Affine &a, const std::vector<DIndex> &loops,
                      const Op &op) const {
  DIndex r = DIndex::of(a.constant);
  for (auto &[var, c] : a.terms) {
    if (var >= 0) {
      r = r.plus(var < static_cast<int>(loops.size()) ? loops[var].scaled(c) : DIndex());
      continue;
    }
    int s = -var - 1;
    auto it = s < static_cast<int>(op.symbols.size()) ? depthOf.find(op.symbols[s]) : depthOf.end();
    int v = it != depthOf.end() ? stepVar(L, it->second) : L.newVar(0);
    r = r.plus(DIndex::var(v).scaled(c));
  }
  return r;
}

DIndex Renderer::axis(Line &L, const AxisIndex &ax, const std::vector<DIndex> &loops,
                      const Op &op) const {
  DIndex r = eval(L, ax.pos, loops, op);
  if (!ax.isIndirect())
    return r;
  std::vector<DIndex> where;
  for (const Affine &a : ax.indirectAt)
    where.push_back(eval(L, a, loops, op));
  r.reads.push_back({value(L, op.operands[ax.indirect], where), 1});
  return r;
}

std::vector<DIndex> Renderer::logical(Line &L, const View &view,
                                      const std::vector<DIndex> &at) const {
  std::vector<DIndex> out;
  for (const View::Slot &s : view.slots) {
    DIndex p;
    if (s.axis >= 0) {
      p = s.axis < static_cast<int>(at.size()) ? at[s.axis] : DIndex();
    } else {
      p = DIndex::of(s.fixed.constant);
      for (auto &[var, c] : s.fixed.terms)
        p = p.plus(DIndex::var(stepVar(L, -var - 1)).scaled(c));
    }
    p.constant += s.shift;
    out.push_back(std::move(p));
  }
  return out;
}

bool Renderer::within(const Line &L, const DIndex &i, int64_t extent) const {
  if (!i.reads.empty())
    return true; // an indirect position out of range is a run-time fault
  int64_t lo = i.constant, hi = i.constant;
  for (auto &[v, c] : i.vars) {
    const DVar &d = L.vars[v];
    int64_t n =
        d.level >= 0 && d.level < static_cast<int>(loopSteps.size()) ? loopSteps[d.level] : d.size;
    (c > 0 ? hi : lo) += c * (n - 1);
  }
  return lo >= 0 && hi < extent;
}

bool Renderer::zeroAt(const Value *v, int axis, int64_t q, int depth) const {
  if (q < 0 || q >= v->type.shape[axis])
    return true; // the IR reads 0 outside a value
  const Op *d = v->def;
  if (!d || depth > 16)
    return false;
  // Where a map reads operand axis k at c*d_axis + o alone, the operand at
  // c*q + o decides.
  auto through = [&](const Value *x, const IndexMap &map, int loop, int64_t at) {
    for (size_t k = 0; k < map.size(); ++k) {
      const AxisIndex &ax = map[k];
      if (ax.isIndirect() || ax.pos.terms.size() != 1 || ax.pos.terms[0].first != loop)
        continue;
      if (zeroAt(x, static_cast<int>(k), ax.pos.terms[0].second * at + ax.pos.constant, depth + 1))
        return true;
    }
    return false;
  };
  auto same = [&](int i) {
    const Value *x = d->operand(i);
    if (x->def && x->def->kind == OpKind::Constant)
      return x->def->value == 0;
    return x->type.rank() == v->type.rank() && zeroAt(x, axis, q, depth + 1);
  };
  switch (d->kind) {
  case OpKind::Constant:
    return d->value == 0;
  case OpKind::Remap:
    return through(d->operand(0), d->maps[0], axis, q);
  case OpKind::ScatterAdd: {
    const AxisIndex &ax = d->maps[0][axis];
    if (ax.isIndirect())
      return false;
    if (ax.pos.terms.empty())
      return q != ax.pos.constant; // writes one position along this axis
    if (ax.pos.terms.size() != 1 || ax.pos.terms[0].second != 1 || ax.pos.terms[0].first < 0)
      return false;
    return zeroAt(d->operand(0), ax.pos.terms[0].first, q - ax.pos.constant, depth + 1);
  }
  case OpKind::Contract: {
    int loop = axis;
    int64_t at = q;
    if (!d->outMap.empty()) {
      const AxisIndex &ax = d->outMap[axis];
      if (ax.isIndirect() || ax.pos.terms.size() != 1 || ax.pos.terms[0].second != 1 ||
          ax.pos.terms[0].first < 0)
        return false;
      loop = ax.pos.terms[0].first;
      at = q - ax.pos.constant;
      if (at < 0 || at >= d->reductionSizes[loop])
        return true; // no loop point writes there
    }
    for (size_t f = 0; f < d->operands.size(); ++f)
      if (through(d->operand(static_cast<int>(f)), d->maps[f], loop, at))
        return true; // a factor is 0 there
    return false;
  }
  case OpKind::Add:
  case OpKind::Sub:
  case OpKind::Max:
  case OpKind::Min:
    return same(0) && same(1);
  case OpKind::Mul:
    return same(0) || same(1);
  case OpKind::Div:
  case OpKind::Neg:
  case OpKind::Abs:
  case OpKind::Tanh:
  case OpKind::Relu:
  case OpKind::Sin:
  case OpKind::Sqrt:
    return same(0);
  case OpKind::Where:
    return same(1) && same(2);
  default:
    return false;
  }
}

bool Renderer::vanishesOutside(const Value *v) const {
  if (views.count(v))
    return true; // a read of a tensor: 0 outside it
  const Op *d = v->def;
  if (!d || d->results.size() != 1)
    return false;
  if (d->kind == OpKind::Constant)
    return d->value == 0;
  OpClass c = d->opClass();
  if (c != OpClass::Unary && c != OpClass::Binary && c != OpClass::Ternary)
    return false;
  // Elementwise over operands of its own shape, each read at the same
  // (outside) position; a broadcast scalar is read in range.
  auto z = [&](int i) {
    const Value *x = d->operand(i);
    if (x->def && x->def->kind == OpKind::Constant)
      return x->def->value == 0;
    return x->type.shape == v->type.shape && vanishesOutside(x);
  };
  switch (d->kind) {
  case OpKind::Neg:
  case OpKind::Abs:
  case OpKind::Tanh:
  case OpKind::Relu:
  case OpKind::Sin:
  case OpKind::Sqrt:
  case OpKind::StopGrad:
    return z(0); // f(0) = 0
  case OpKind::PowC:
    return d->value > 0 && z(0);
  case OpKind::Mul:
    return z(0) || z(1);
  case OpKind::Div:
  case OpKind::LeakyRelu:
    return z(0);
  case OpKind::Add:
  case OpKind::Sub:
  case OpKind::Max:
  case OpKind::Min:
  case OpKind::Lt:
  case OpKind::Gt:
  case OpKind::Ne:
    return z(0) && z(1);
  case OpKind::Where:
    return z(1) && z(2);
  default:
    return false;
  }
}

DExprPtr Renderer::value(Line &L, const Value *v, const std::vector<DIndex> &at) const {
  auto it = views.find(v);
  if (it != views.end())
    return read(it->second.name, logical(L, it->second, at));
  if (!v->def || v->def->results.size() != 1)
    return read(v->name, at); // a value nothing names: shown as the IR names it
  // The IR reads 0 outside a value; its expression might not be 0 there.
  // (The operands of an expression checked here are read at the same
  // positions: the check covers them.)
  bool outside = false;
  for (size_t a = 0; checking_ == 0 && a < at.size() && a < v->type.shape.size(); ++a)
    outside = outside || !within(L, at[a], v->type.shape[a]);
  if (outside && !vanishesOutside(v))
    readOutside.insert(v);
  checking_ += outside;
  DExprPtr e = op(L, *v->def, at);
  checking_ -= outside;
  return e;
}

bool Renderer::gatherForm(const Op &scatter) const {
  std::vector<int> seen;
  for (const AxisIndex &ax : scatter.maps[0]) {
    if (ax.isIndirect() || ax.pos.terms.size() != 1)
      return false;
    auto [var, c] = ax.pos.terms[0];
    if (var < 0 || c != 1 || std::find(seen.begin(), seen.end(), var) != seen.end())
      return false;
    seen.push_back(var);
  }
  return true;
}

bool Renderer::invertible(const Op &op, std::vector<int> &chosen) const {
  int n = static_cast<int>(op.outMap.size());
  chosen.assign(n, -1);
  for (int j = 0; j < n; ++j) {
    const AxisIndex &ax = op.outMap[j];
    if (ax.isIndirect())
      return false;
    for (auto &[var, c] : ax.pos.terms) {
      if (var < 0 || c != 1 || std::find(chosen.begin(), chosen.end(), var) != chosen.end())
        continue;
      bool elsewhere = false;
      for (int k = 0; k < n; ++k)
        elsewhere = elsewhere || (k != j && op.outMap[k].pos.coeff(var) != 0);
      if (elsewhere)
        continue;
      // Solving var = u - rest must not add positions the loop never ran:
      // either a factor reads var plainly over its whole range (reads
      // outside give 0), or u - rest stays inside the range for every u.
      int64_t size = op.reductionSizes[var];
      bool bounded = false;
      for (size_t f = 0; f < op.operands.size(); ++f)
        for (size_t a = 0; a < op.maps[f].size(); ++a)
          bounded = bounded || (op.maps[f][a].pos.isVar(var) && !op.maps[f][a].isIndirect() &&
                                op.operands[f]->type.shape[a] == size);
      int64_t rest = ax.pos.constant;
      bool constantRest = ax.pos.terms.size() == 1;
      int64_t extent = op.result()->type.shape[j];
      if (bounded || (constantRest && rest <= 0 && extent - rest <= size)) {
        chosen[j] = var;
        break;
      }
    }
    if (chosen[j] < 0)
      return false;
  }
  for (int j = 0; j < n; ++j) // the rest of each position must not be solved for
    for (auto &[var, c] : op.outMap[j].pos.terms)
      if (var >= 0 && var != chosen[j] &&
          std::find(chosen.begin(), chosen.end(), var) != chosen.end())
        return false;
  return true;
}

bool Renderer::isStatement(const Op &op) const {
  std::vector<int> chosen;
  if (op.kind == OpKind::ScatterAdd)
    return !gatherForm(op);
  return op.kind == OpKind::Contract && !op.outMap.empty() && !invertible(op, chosen);
}

DExprPtr Renderer::factorsAt(Line &L, const Op &op, const std::vector<DIndex> &loops) const {
  DExprPtr product;
  for (size_t k = 0; k < op.operands.size(); ++k) {
    std::vector<DIndex> pos;
    for (const AxisIndex &ax : op.maps[k])
      pos.push_back(axis(L, ax, loops, op));
    DExprPtr f = value(L, op.operands[k], pos);
    product = product ? binary(OpKind::Mul, product, f) : f;
  }
  return product;
}

DExprPtr Renderer::statement(Line &L, const Op &op, std::vector<DIndex> &written) const {
  std::vector<int> bound; // the statement's loops run over all their points
  std::vector<DIndex> loops;
  written.clear();
  if (op.kind == OpKind::ScatterAdd) {
    for (int64_t s : op.operand(0)->type.shape)
      loops.push_back(fresh(L, s, bound));
    for (const AxisIndex &ax : op.maps[0])
      written.push_back(axis(L, ax, loops, op));
    return value(L, op.operand(0), loops);
  }
  for (int64_t s : op.reductionSizes)
    loops.push_back(fresh(L, s, bound));
  for (const AxisIndex &ax : op.outMap)
    written.push_back(axis(L, ax, loops, op));
  DExprPtr product = factorsAt(L, op, loops);
  return product;
}

bool Renderer::sliceView(const Op &remap, View &out) const {
  if (remap.kind != OpKind::Remap || remap.operands.size() != 1)
    return false;
  auto it = views.find(remap.operand(0));
  if (it == views.end())
    return false;
  const View &src = it->second;
  const IndexMap &map = remap.maps[0];
  out.name = src.name;
  out.slots.clear();
  std::vector<int> used;
  for (const View::Slot &s : src.slots) {
    View::Slot n;
    n.shift = s.shift;
    if (s.axis < 0) {
      n.fixed = s.fixed;
      out.slots.push_back(n);
      continue;
    }
    const Affine &a = map[s.axis].pos;
    // Loop variables become the slice's axes, step symbols fixed positions.
    int loopVar = -1;
    n.fixed.constant = a.constant;
    for (auto &[var, c] : a.terms) {
      if (var >= 0) {
        if (c != 1 || loopVar >= 0)
          return false;
        loopVar = var;
        continue;
      }
      int sym = -var - 1;
      auto d = sym < static_cast<int>(remap.symbols.size()) ? depthOf.find(remap.symbols[sym])
                                                            : depthOf.end();
      if (d == depthOf.end())
        return false;
      n.fixed.add(Affine::symbolVar(d->second), c);
    }
    if (loopVar >= 0) {
      if (!n.fixed.terms.empty() || std::find(used.begin(), used.end(), loopVar) != used.end())
        return false;
      used.push_back(loopVar);
      n.axis = loopVar;
      n.shift += n.fixed.constant;
      n.fixed = Affine();
    }
    out.slots.push_back(n);
  }
  return static_cast<int64_t>(used.size()) == remap.result()->type.rank();
}

DExprPtr Renderer::scatterGather(Line &L, const Op &op, const std::vector<DIndex> &at) const {
  const Value *src = op.operand(0);
  std::vector<DIndex> loops(src->type.rank());
  std::vector<bool> solved(src->type.rank(), false);
  for (size_t j = 0; j < op.maps[0].size(); ++j) {
    auto [var, c] = op.maps[0][j].pos.terms[0];
    loops[var] = at[j].plus(DIndex::of(-op.maps[0][j].pos.constant));
    solved[var] = true;
  }
  std::vector<int> bound;
  for (size_t k = 0; k < loops.size(); ++k)
    if (!solved[k])
      loops[k] = fresh(L, src->type.shape[k], bound);
  DExprPtr body = value(L, src, loops);
  return bound.empty() ? body : binder("sum", bound, body);
}

DExprPtr Renderer::contract(Line &L, const Op &op, const std::vector<DIndex> &at) const {
  std::vector<int> bound;
  std::vector<DIndex> loops;
  if (op.outMap.empty()) {
    loops = at;
    for (int64_t s : op.reductionSizes)
      loops.push_back(fresh(L, s, bound));
  } else {
    std::vector<int> chosen;
    if (!invertible(op, chosen)) { // not reached: such values are statements
      std::vector<DIndex> written;
      DExprPtr e = statement(L, op, written);
      return call("contract_into", {e});
    }
    loops.assign(op.reductionSizes.size(), DIndex());
    for (size_t k = 0; k < loops.size(); ++k)
      if (std::find(chosen.begin(), chosen.end(), static_cast<int>(k)) == chosen.end())
        loops[k] = fresh(L, op.reductionSizes[k], bound);
    for (size_t j = 0; j < chosen.size(); ++j) {
      Affine rest = op.outMap[j].pos;
      rest.add(chosen[j], -1);
      loops[chosen[j]] = at[j].plus(eval(L, rest, loops, op).scaled(-1));
    }
  }
  DExprPtr product = factorsAt(L, op, loops);
  return bound.empty() ? product : binder("sum", bound, product);
}

DExprPtr Renderer::reduce(Line &L, const Op &op, const std::vector<DIndex> &at) const {
  const Value *x = op.operand(0);
  std::vector<int> bound;
  std::vector<DIndex> pos;
  size_t k = 0;
  for (int a = 0; a < x->type.rank(); ++a) {
    if (std::find(op.axes.begin(), op.axes.end(), a) != op.axes.end())
      pos.push_back(fresh(L, x->type.shape[a], bound));
    else
      pos.push_back(k < at.size() ? at[k++] : DIndex());
  }
  DExprPtr body = value(L, x, pos);
  if (bound.empty())
    return body;
  const char *name = op.kind == OpKind::ReduceSum   ? "sum"
                     : op.kind == OpKind::ReduceMax ? "max"
                     : op.kind == OpKind::ReduceMin ? "min"
                                                    : opMnemonic(op.kind);
  return binder(name, bound, body);
}

DExprPtr Renderer::normalize(Line &L, const Op &op, const std::vector<DIndex> &at) const {
  // softmax(v: z[b,v]) leaves v free: it is the position read.
  std::vector<int> bound;
  bool plain = true;
  for (int a : op.axes) {
    int v;
    int64_t off;
    plain = plain && at[a].isVar(v, off) && off == 0 &&
            std::find(bound.begin(), bound.end(), v) == bound.end();
    if (plain)
      bound.push_back(v);
  }
  for (size_t a = 0; plain && a < at.size(); ++a) // nor used elsewhere
    if (std::find(op.axes.begin(), op.axes.end(), static_cast<int>(a)) == op.axes.end())
      for (auto &[v, c] : at[a].vars)
        plain = plain && std::find(bound.begin(), bound.end(), v) == bound.end();
  if (plain)
    return binder(opMnemonic(op.kind), bound, value(L, op.operand(0), at));
  // Read at a position that is not a plain variable: bind fresh ones.
  bound.clear();
  std::vector<DIndex> pos = at, values;
  for (int a : op.axes) {
    int v = L.newVar(op.operand(0)->type.shape[a]);
    bound.push_back(v);
    values.push_back(at[a]);
    pos[a] = DIndex::var(v);
  }
  return notation::at(binder(opMnemonic(op.kind), bound, value(L, op.operand(0), pos)), bound,
                      values);
}

DExprPtr Renderer::op(Line &L, const Op &op, const std::vector<DIndex> &at) const {
  auto operand = [&](int i) {
    const Value *x = op.operand(i);
    return value(L, x, x->type.rank() == 0 ? std::vector<DIndex>{} : at);
  };
  switch (op.opClass()) {
  case OpClass::Leaf:
    if (op.kind == OpKind::Constant)
      return number(op.value);
    if (op.kind == OpKind::Iota)
      return indexValue(op.axes[0] < static_cast<int>(at.size()) ? at[op.axes[0]] : DIndex());
    return read(op.name, at);
  case OpClass::Unary:
    if (op.kind == OpKind::Neg)
      return neg(operand(0));
    if (op.kind == OpKind::PowC)
      return power(operand(0), op.value);
    return call(op.mnemonic(), {operand(0)});
  case OpClass::Binary:
    switch (op.kind) {
    case OpKind::Max:
    case OpKind::Min:
    case OpKind::LeakyRelu:
      return call(op.mnemonic(), {operand(0), operand(1)});
    case OpKind::Mul:
      if (op.operand(0) == op.operand(1)) // tanh(c)*tanh(c) is tanh(c)^2
        return power(operand(0), 2);
      [[fallthrough]];
    default:
      return binary(op.kind, operand(0), operand(1));
    }
  case OpClass::Ternary:
    return call("where", {operand(0), operand(1), operand(2)});
  case OpClass::Remap: {
    std::vector<DIndex> pos;
    for (const AxisIndex &ax : op.maps[0])
      pos.push_back(axis(L, ax, at, op));
    return value(L, op.operand(0), pos);
  }
  case OpClass::Scatter:
    if (gatherForm(op))
      return scatterGather(L, op, at);
    { // not reached: such values are statements
      std::vector<DIndex> written;
      return call("scatter_add", {statement(L, op, written)});
    }
  case OpClass::Contract:
    return contract(L, op, at);
  case OpClass::Reduce:
    return reduce(L, op, at);
  case OpClass::Normalize:
    return normalize(L, op, at);
  case OpClass::Recurrence:
  case OpClass::Yield:
    break;
  }
  return read(op.mnemonic(), at);
}

} // namespace gradc::notation
