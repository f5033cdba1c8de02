//===- frontend/Lowering.cpp - From a resolved model to the IR graph ------===//
//
// Each equation becomes a few tensor ops: reads become remaps (affine and
// indirect index maps), a sum over a product becomes one contract op that
// reads its factors through their index maps (a convolution reads the image
// with padded affine maps, never materializing patches), other reductions
// and normalizations become reduce/softmax ops over the axes of their bound
// variables, and elementwise operators become maps over the union of their
// operands' variables (broadcast by remaps).
//
// A subexpression is lowered to a value together with the list of index
// variables its axes stand for (LV). Inside a recurrence body the recurrence
// variable is not an axis but a symbol: the step variable of the loop.
//
// Recurrences follow ir/Graph.h: group tensors live in storage extended by
// their boundary positions; reads of the current step use the values
// computed earlier in the step, reads of other steps use the carried tensor.
//
//===----------------------------------------------------------------------===//
#include "frontend/Lowering.h"
#include "frontend/LoweringImpl.h"

#include "ir/Builder.h"
#include "support/Assert.h"

#include <algorithm>
#include <map>
#include <set>

namespace gradc {

using namespace sema;

namespace lowering {

static std::vector<int> unionVars(const std::vector<const LV *> &xs) {
  std::vector<int> out;
  for (const LV *x : xs)
    for (int v : x->vars)
      if (std::find(out.begin(), out.end(), v) == out.end())
        out.push_back(v);
  return out;
}

/// Orders variables as the left side does, so results need no transpose.
static void sortByRank(std::vector<int> &vars, const std::vector<int> &rank) {
  std::stable_sort(vars.begin(), vars.end(), [&](int a, int b) { return rank[a] < rank[b]; });
}

void Lowerer::beginEquation(const Equation &e) {
  eq = &e;
  symbolOf.clear();
  syms.clear();
  varRank.assign(e.vars.size(), 0);
  for (size_t v = 0; v < e.vars.size(); ++v)
    varRank[v] = static_cast<int>(e.lhs.size() + v);
  for (size_t p = 0; p < e.lhs.size(); ++p)
    if (e.lhs[p].var >= 0)
      varRank[e.lhs[p].var] = static_cast<int>(p);
  for (size_t l = 0; l < levels.size(); ++l) {
    auto it = levels[l].axisOf.find(e.tensor);
    if (it != levels[l].axisOf.end() && e.lhs[it->second].var >= 0)
      symbolOf[e.lhs[it->second].var] = static_cast<int>(l);
  }
}

const View &Lowerer::viewFor(const RExpr &r) {
  int last = -1;
  for (size_t l = 0; l < levels.size(); ++l) {
    auto ax = levels[l].axisOf.find(r.tensor);
    if (ax == levels[l].axisOf.end())
      break;
    int v;
    int64_t k;
    bool simple = r.subs[ax->second].isSimpleVar(v, k);
    if (!simple || !symbolOf.count(v) || symbolOf[v] != static_cast<int>(l) || k != 0)
      return levels[l].carried.at(r.tensor);
    last = static_cast<int>(l);
  }
  if (last >= 0) {
    auto it = levels[last].local.find(r.tensor);
    GRADC_ASSERT(it != levels[last].local.end(),
                 "a recurrence reads '" + M.tensors[r.tensor].name + "' before computing it");
    return it->second;
  }
  auto it = top.find(r.tensor);
  GRADC_ASSERT(it != top.end(), "'" + M.tensors[r.tensor].name + "' read before it is computed");
  return it->second;
}

LV Lowerer::read(const RExpr &r) {
  const View &view = viewFor(r);
  std::vector<int> vars;
  loopVarsOf(r, vars);
  sortByRank(vars, varRank);
  std::map<int, int> loopPos;
  for (size_t i = 0; i < vars.size(); ++i)
    loopPos[vars[i]] = static_cast<int>(i);
  ir::IndexMap map(view.value->type.rank());
  std::vector<ir::Value *> indirect;
  // Each op collects the step variables its maps use; nested reads are ops
  // of their own.
  std::vector<ir::Value *> saved = std::move(syms);
  syms.clear();
  for (size_t i = 0; i < r.subs.size(); ++i) {
    int va = view.axisMap[i];
    if (va < 0)
      continue;
    const Subscript &s = r.subs[i];
    if (s.indirect) {
      LV ind = read(*s.indirect);
      indirect.push_back(ind.v);
      map[va].indirect = static_cast<int>(indirect.size());
      map[va].pos = ir::Affine::constantOf(s.constant + view.shift[i]);
      for (int v : ind.vars)
        map[va].indirectAt.push_back(ir::Affine::var(loopPos.at(v)));
      continue;
    }
    map[va].pos = affineFor(s, loopPos, view.shift[i]);
  }
  std::vector<ir::Value *> mySyms = std::move(syms);
  syms = std::move(saved);
  std::vector<int64_t> shape = sizes(vars);
  if (indirect.empty() && mySyms.empty() && map == ir::identityMap(static_cast<int>(map.size())) &&
      shape == view.value->type.shape)
    return {view.value, vars};
  B.setLoc(r.loc);
  return {B.remap(view.value, map, shape, indirect, mySyms), vars};
}

/// Lays x out over `vars` (a superset of x.vars, any order). Rank-0 values
/// broadcast inside elementwise ops by themselves unless `materialize`.
ir::Value *Lowerer::layout(const LV &x, const std::vector<int> &vars, bool materialize) {
  if (x.vars == vars || (x.vars.empty() && !materialize))
    return x.v;
  ir::IndexMap map(x.vars.size());
  for (size_t j = 0; j < x.vars.size(); ++j) {
    auto it = std::find(vars.begin(), vars.end(), x.vars[j]);
    GRADC_ASSERT(it != vars.end(), "layout onto variables that miss one of the value's");
    map[j].pos = ir::Affine::var(static_cast<int>(it - vars.begin()));
  }
  return B.remap(x.v, map, sizes(vars));
}

LV Lowerer::lower(const RExpr &e) {
  B.setLoc(e.loc);
  switch (e.kind) {
  case RKind::Number:
    return {B.constant(e.value), {}};
  case RKind::Training:
    return {B.constant(training ? 1.0 : 0.0), {}};
  case RKind::Count: {
    double n = 1;
    for (int v : e.vars)
      n *= static_cast<double>(size(v));
    return {B.constant(n), {}};
  }
  case RKind::IndexValue: {
    ir::Value *io = B.iota({size(e.var)}, 0);
    auto sym = symbolOf.find(e.var);
    if (sym == symbolOf.end())
      return {io, {e.var}};
    ir::IndexMap m(1);
    m[0].pos = ir::Affine{0, {{ir::Affine::symbolVar(0), 1}}};
    return {B.remap(io, m, {}, {}, {levels[sym->second].step}), {}};
  }
  case RKind::Read:
    return read(e);
  case RKind::Unary: {
    LV x = lower(*e.kids[0]);
    B.setLoc(e.loc);
    if (e.op == ir::OpKind::PowC)
      return {B.powc(x.v, e.value), x.vars};
    return {B.unary(e.op, x.v), x.vars};
  }
  case RKind::Binary:
  case RKind::Where: {
    std::vector<LV> kids;
    for (auto &k : e.kids)
      kids.push_back(lower(*k));
    std::vector<const LV *> ptrs;
    for (auto &k : kids)
      ptrs.push_back(&k);
    std::vector<int> vars = unionVars(ptrs);
    sortByRank(vars, varRank);
    B.setLoc(e.loc);
    std::vector<ir::Value *> vs;
    for (auto &k : kids)
      vs.push_back(layout(k, vars, false));
    if (e.kind == RKind::Where)
      return {B.where(vs[0], vs[1], vs[2]), vars};
    return {B.binary(e.op, vs[0], vs[1]), vars};
  }
  case RKind::Sum:
    return lowerSum(e);
  case RKind::Reduce:
  case RKind::Normalize: {
    // A bound variable that is also a recurrence's step here (softmax(t:
    // x[t]) inside the equation of h[t]) ranges over all its values inside
    // the binder: it is a loop variable there, not the current step.
    std::map<int, int> hidden;
    for (int v : e.vars)
      if (auto it = symbolOf.find(v); it != symbolOf.end()) {
        hidden.insert(*it);
        symbolOf.erase(it);
      }
    LV x = lower(*e.kids[0]);
    for (auto &[v, level] : hidden)
      symbolOf[v] = level;
    B.setLoc(e.loc);
    std::vector<int> vars = x.vars;
    bool missing = false;
    for (int v : e.vars)
      if (std::find(vars.begin(), vars.end(), v) == vars.end()) {
        vars.push_back(v);
        missing = true;
      }
    ir::Value *xv = missing ? layout(x, vars, true) : x.v;
    std::vector<int> axes;
    for (int v : e.vars)
      axes.push_back(static_cast<int>(std::find(vars.begin(), vars.end(), v) - vars.begin()));
    if (e.kind == RKind::Normalize) {
      ir::Value *n = B.normalize(e.op, xv, axes);
      if (hidden.empty())
        return {n, vars};
      // The normalized tensor, read at the current step of each hidden variable.
      ir::IndexMap m;
      std::vector<ir::Value *> steps;
      std::vector<int> kept;
      for (int v : vars) {
        auto h = hidden.find(v);
        if (h == hidden.end()) {
          m.push_back({ir::Affine::var(static_cast<int>(kept.size())), -1, {}});
          kept.push_back(v);
          continue;
        }
        m.push_back({ir::Affine{0, {{ir::Affine::symbolVar(static_cast<int>(steps.size())), 1}}},
                     -1, {}});
        steps.push_back(levels[h->second].step);
      }
      return {B.remap(n, m, sizes(kept), {}, steps), kept};
    }
    std::vector<int> rest;
    for (int v : vars)
      if (std::find(e.vars.begin(), e.vars.end(), v) == e.vars.end())
        rest.push_back(v);
    if ((e.op == ir::OpKind::ReduceMax || e.op == ir::OpKind::ReduceMin) && axes.size() > 1) {
      // One axis at a time, the last bound variable first: the first maximal
      // element in the binder's order (which gets the gradient) is then the
      // one each single-axis reduction picks.
      std::vector<int> order(e.vars.rbegin(), e.vars.rend());
      std::vector<int> live = vars;
      for (int v : order) {
        int axis = static_cast<int>(std::find(live.begin(), live.end(), v) - live.begin());
        xv = B.reduce(e.op, xv, {axis});
        live.erase(live.begin() + axis);
      }
      return {xv, rest};
    }
    return {B.reduce(e.op, xv, axes), rest};
  }
  }
  GRADC_UNREACHABLE("unknown RExpr kind");
}

/// Flattens a product into factors; a divisor becomes a reciprocal factor.
static void factorsOf(const RExpr &e, std::vector<std::pair<const RExpr *, bool>> &out,
                      bool recip) {
  if (e.kind == RKind::Binary && e.op == ir::OpKind::Mul && !recip) {
    factorsOf(*e.kids[0], out, false);
    factorsOf(*e.kids[1], out, false);
    return;
  }
  if (e.kind == RKind::Binary && e.op == ir::OpKind::Div && !recip) {
    factorsOf(*e.kids[0], out, false);
    out.push_back({e.kids[1].get(), true});
    return;
  }
  out.push_back({&e, recip});
}

/// The loop variables of `e`'s tensor reads, in the order the reads store
/// them: the first read of each variable decides, axis by axis.
void Lowerer::storageOrder(const RExpr &e, std::vector<int> &out) {
  if (e.kind == RKind::Read)
    loopVarsOf(e, out);
  for (auto &k : e.kids)
    storageOrder(*k, out);
}

LV Lowerer::lowerSum(const RExpr &e) {
  std::vector<std::pair<const RExpr *, bool>> factors;
  factorsOf(*e.kids[0], factors, false);
  // A sum of one computed value (mean(...: (x[..., j] - mu[j])^2)) computes
  // it in the order its reads store their variables, [b, x, y, j], rather
  // than kept variables first: the summand then reads x in place instead of
  // transposed, and the reduction runs over leading axes.
  std::vector<int> savedRank = varRank;
  if (factors.size() == 1 && (factors[0].second || factors[0].first->kind != RKind::Read)) {
    std::vector<int> order;
    storageOrder(*factors[0].first, order);
    int lowest = 0;
    for (int r : varRank)
      lowest = std::min(lowest, r);
    for (size_t k = 0; k < order.size(); ++k)
      varRank[order[k]] = lowest - static_cast<int>(order.size()) + static_cast<int>(k);
  }
  // Factor operands: direct reads keep their index maps; others are lowered.
  struct Operand {
    const RExpr *direct = nullptr;
    LV lv{nullptr, {}};
  };
  std::vector<Operand> ops;
  std::vector<int> all;
  auto note = [&](int v) {
    if (std::find(all.begin(), all.end(), v) == all.end())
      all.push_back(v);
  };
  for (auto &[f, recip] : factors) {
    Operand op;
    bool direct = !recip && f->kind == RKind::Read;
    if (direct)
      for (auto &s : f->subs)
        direct = direct && !s.indirect;
    if (direct) {
      op.direct = f;
      std::vector<int> vs;
      loopVarsOf(*f, vs);
      for (int v : vs)
        note(v);
    } else {
      op.lv = lower(*f);
      if (recip) {
        B.setLoc(f->loc);
        op.lv.v = B.binary(ir::OpKind::Div, B.constant(1.0), op.lv.v);
      }
      for (int v : op.lv.vars)
        note(v);
    }
    ops.push_back(op);
  }
  std::vector<int> outVars, redVars;
  for (int v : all)
    if (std::find(e.vars.begin(), e.vars.end(), v) == e.vars.end())
      outVars.push_back(v);
  sortByRank(outVars, varRank);
  for (int v : e.vars)
    if (std::find(all.begin(), all.end(), v) != all.end())
      redVars.push_back(v);
  double scale = 1;
  for (int v : e.vars)
    if (std::find(all.begin(), all.end(), v) == all.end())
      scale *= static_cast<double>(size(v));
  if (ops.size() == 1 && !ops[0].direct) {
    // A sum of one computed value: a reduction over its axes.
    std::vector<int> axes;
    for (int v : redVars)
      axes.push_back(static_cast<int>(
          std::find(ops[0].lv.vars.begin(), ops[0].lv.vars.end(), v) - ops[0].lv.vars.begin()));
    varRank = savedRank;
    B.setLoc(e.loc);
    ir::Value *r = axes.empty() ? ops[0].lv.v : B.reduce(ir::OpKind::ReduceSum, ops[0].lv.v, axes);
    std::vector<int> rest;
    for (int v : ops[0].lv.vars)
      if (std::find(redVars.begin(), redVars.end(), v) == redVars.end())
        rest.push_back(v);
    if (scale != 1)
      r = B.binary(ir::OpKind::Mul, r, B.constant(scale));
    return {r, rest};
  }
  varRank = savedRank;
  std::map<int, int> loopPos;
  for (size_t i = 0; i < outVars.size(); ++i)
    loopPos[outVars[i]] = static_cast<int>(i);
  for (size_t i = 0; i < redVars.size(); ++i)
    loopPos[redVars[i]] = static_cast<int>(outVars.size() + i);
  std::vector<ir::Value *> values;
  std::vector<ir::IndexMap> maps;
  std::vector<ir::Value *> savedSyms = syms;
  syms.clear();
  for (auto &op : ops) {
    if (op.direct) {
      const View &view = viewFor(*op.direct);
      ir::IndexMap map(view.value->type.rank());
      for (size_t i = 0; i < op.direct->subs.size(); ++i)
        if (view.axisMap[i] >= 0)
          map[view.axisMap[i]].pos = affineFor(op.direct->subs[i], loopPos, view.shift[i]);
      values.push_back(view.value);
      maps.push_back(std::move(map));
    } else {
      ir::IndexMap map(op.lv.vars.size());
      for (size_t j = 0; j < op.lv.vars.size(); ++j)
        map[j].pos = ir::Affine::var(loopPos.at(op.lv.vars[j]));
      values.push_back(op.lv.v);
      maps.push_back(std::move(map));
    }
  }
  std::vector<ir::Value *> mySyms = syms;
  syms = savedSyms;
  B.setLoc(e.loc);
  ir::Value *r = B.contract(values, maps, sizes(outVars), sizes(redVars), mySyms);
  if (scale != 1)
    r = B.binary(ir::OpKind::Mul, r, B.constant(scale));
  return {r, outVars};
}

ir::Value *Lowerer::lowerEquation(const Equation &e, std::vector<int> *domainOut) {
  beginEquation(e);
  std::vector<int> domain;
  for (auto &l : e.lhs)
    if (l.var >= 0 && !symbolOf.count(l.var))
      domain.push_back(l.var);
  LV x = lower(*e.rhs);
  B.setLoc(e.loc);
  ir::Value *v = layout(x, domain, true);
  if (domainOut)
    *domainOut = domain;
  return v;
}

void Lowerer::lowerUnit(const Unit &u) {
  if (u.group) {
    lowerGroup(*u.group);
    return;
  }
  const Equation &e = M.equations[u.eq];
  ir::Value *v = lowerEquation(e);
  const Tensor &T = M.tensors[e.tensor];
  View view;
  view.value = v;
  int k = 0;
  for (size_t a = 0; a < T.shape.size(); ++a) {
    bool fixed = false;
    for (auto &L : levels)
      if (L.axisOf.count(e.tensor) && L.axisOf.at(e.tensor) == static_cast<int>(a))
        fixed = true;
    view.axisMap.push_back(fixed ? -1 : k++);
    view.shift.push_back(0);
  }
  // A copy `a = b` is b's value itself: the first tensor names it.
  if (claimed.insert(v).second)
    B.name(v, levels.empty() ? T.name : T.name + ".step");
  if (levels.empty()) {
    top[e.tensor] = view;
    plainValues[e.tensor] = v;
  } else {
    levels.back().local[e.tensor] = view;
  }
}

void Lowerer::run() {
  G.modelName = M.name;
  G.training = training;
  // Leaves in declaration order (a def's params at the position of its call).
  std::vector<int> leaves;
  for (size_t t = 0; t < M.tensors.size(); ++t)
    if (M.tensors[t].role != Role::Equation)
      leaves.push_back(static_cast<int>(t));
  auto before = [](SourceLoc a, SourceLoc b) {
    if (a.file != b.file)
      return a.file < b.file;
    return a.line != b.line ? a.line < b.line : a.col < b.col;
  };
  std::stable_sort(leaves.begin(), leaves.end(), [&](int a, int b) {
    const auto &ka = M.tensors[a].orderKey, &kb = M.tensors[b].orderKey;
    return std::lexicographical_compare(ka.begin(), ka.end(), kb.begin(), kb.end(), before);
  });
  for (int t : leaves) {
    const Tensor &T = M.tensors[t];
    ir::OpKind kind = T.role == Role::Input   ? ir::OpKind::Input
                      : T.role == Role::Param ? ir::OpKind::Param
                      : T.role == Role::Noise ? ir::OpKind::Noise
                                              : ir::OpKind::State;
    B.setLoc(T.loc);
    ir::TensorType ty{T.isInt ? ir::DType::I32 : ir::DType::F32, T.shape};
    ir::Value *v = B.leaf(kind, T.name, ty, T.init);
    View view;
    view.value = v;
    for (size_t a = 0; a < T.shape.size(); ++a) {
      view.axisMap.push_back(static_cast<int>(a));
      view.shift.push_back(0);
    }
    top[t] = view;
    plainValues[t] = v;
    claimed.insert(v);
  }
  for (const Unit &u : M.schedule)
    lowerUnit(u);
  for (auto &o : M.outputs)
    G.outputs.push_back({o.name, plainValues.at(o.tensor), o.loc});
  if (M.loss)
    G.loss = {M.loss->name, plainValues.at(M.loss->tensor), M.loss->loc};
  for (auto &mt : M.metrics)
    G.metrics.push_back({mt.name, plainValues.at(mt.tensor), mt.loc});
  for (auto &[state, e] : M.updates)
    G.updates.push_back({plainValues.at(state), plainValues.at(M.equations[e].tensor),
                         M.equations[e].loc});
}

} // namespace lowering

std::unique_ptr<ir::Graph> lowerModel(const Model &model, bool training) {
  auto g = std::make_unique<ir::Graph>();
  lowering::Lowerer(model, *g, training).run();
  return g;
}

} // namespace gradc
