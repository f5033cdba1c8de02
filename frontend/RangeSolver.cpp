//===- frontend/RangeSolver.cpp - Index ranges and tensor shapes ----------===//
//
// Algorithm (LANGUAGE.md, "Ranges"):
//  1. Every tensor axis and every index variable is a node of a union-find;
//     declared shapes, `for` clauses and binder ranges give sizes.
//  2. A simple subscript `v + c` (v of coefficient 1, c constant) of a
//     variable without a fixed range unifies v with the tensor axis, on either
//     side of the equation and inside indirect indices. Two different sizes
//     in one class is an error naming both places.
//  3. A left-side variable still without a size takes the axis size from
//     every subscript `v + e` whose other variables all have sizes; those
//     sizes must agree. Steps 2-3 repeat until nothing changes.
// The driver re-runs the solver from scratch after each round of def
// instantiation, since new equations bring new constraints.
//
//===----------------------------------------------------------------------===//
#include "frontend/SemaImpl.h"

#include "support/Assert.h"

#include <functional>

namespace gradc::sema {

std::string shapeStr(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

static std::string locStr(const SourceManager &sm, SourceLoc l) {
  std::string d = sm.describe(l);
  auto p = d.find(':');
  return p == std::string::npos ? d : d.substr(p + 1);
}

int SemaImpl::newNode(int64_t size, SourceLoc loc, const std::string &what) {
  nodes_.push_back({static_cast<int>(nodes_.size()), size, loc, what});
  return static_cast<int>(nodes_.size()) - 1;
}

int SemaImpl::find(int n) {
  while (nodes_[n].parent != n) {
    nodes_[n].parent = nodes_[nodes_[n].parent].parent;
    n = nodes_[n].parent;
  }
  return n;
}

void SemaImpl::unify(int a, int b, SourceLoc loc, const std::string &what, const Equation *eq) {
  int ra = find(a), rb = find(b);
  if (ra == rb)
    return;
  Node &A = nodes_[ra], &B = nodes_[rb];
  if (A.size >= 0 && B.size >= 0 && A.size != B.size) {
    // Report at the place that brings the conflict, with a note at the
    // place the other size came from.
    const Node &other = A.loc == loc ? B : A;
    const Node &here = A.loc == loc ? A : B;
    static const std::vector<std::pair<SourceLoc, std::string>> none;
    errorIn(eq ? eqCallStack_[&*eq - &model_->equations[0]] : none, loc,
            "two sizes for " + what + ": " + std::to_string(here.size) + " here, but " +
                std::to_string(other.size) + " from " + other.what + " at " +
                locStr(sm_, other.loc));
    diags_.note(other.loc, "size " + std::to_string(other.size) + " comes from " + other.what);
    throw UserError();
  }
  // The merged class remembers where its size was last confirmed, so that a
  // later conflict points at the read that fixed it, not at a declaration.
  bool oneSized = (A.size >= 0) != (B.size >= 0);
  int root = A.size < 0 ? rb : ra;
  nodes_[A.size < 0 ? ra : rb].parent = root;
  if (oneSized) {
    nodes_[root].loc = loc;
    nodes_[root].what = what;
  }
}

void SemaImpl::fixSize(int node, int64_t size, SourceLoc loc, const std::string &what,
                       const Equation *eq) {
  int n = newNode(size, loc, what);
  unify(n, node, loc, what, eq);
}

/// Gives tensor t one node per axis once its rank is known.
static void ensureAxes(SemaImpl &S, int t) {
  Tensor &T = S.model_->tensors[t];
  if (T.rank < 0 || static_cast<int>(T.axisNodes.size()) == T.rank)
    return;
  T.axisNodes.clear();
  bool declared = T.role != Role::Equation || static_cast<int>(T.shape.size()) == T.rank;
  for (int i = 0; i < T.rank; ++i)
    T.axisNodes.push_back(S.newNode(declared ? T.shape[i] : -1, T.loc,
                                    "axis " + std::to_string(i) + " of '" + T.name + "'"));
}

void SemaImpl::addEquationToSolver(Equation &eq) {
  for (Var &v : eq.vars)
    v.node = newNode(v.fixed ? v.size : -1, v.loc, "the range of '" + v.name + "'");
  ensureAxes(*this, eq.tensor);
  Tensor &T = model_->tensors[eq.tensor];
  if (T.rank >= 0 && static_cast<int>(eq.lhs.size()) != T.rank) {
    errorIn(eqCallStack_[&eq - &model_->equations[0]], eq.loc,
            "'" + T.name + "' has " + std::to_string(T.rank) + " axes but this left side has " +
                std::to_string(eq.lhs.size()) + " subscripts");
    throw UserError();
  }
  for (size_t p = 0; p < eq.lhs.size() && T.rank >= 0; ++p)
    if (eq.lhs[p].var >= 0) {
      Var &v = eq.vars[eq.lhs[p].var];
      unify(v.node, T.axisNodes[p], v.loc,
            "index '" + v.name + "' (axis " + std::to_string(p) + " of '" + T.name + "')", &eq);
    }
  forEachRead(*eq.rhs, [&](RExpr &r) {
    if (r.whole)
      return;
    ensureAxes(*this, r.tensor);
    Tensor &R = model_->tensors[r.tensor];
    if (R.rank < 0)
      return;
    if (static_cast<int>(r.subs.size()) != R.rank) {
      errorIn(eqCallStack_[&eq - &model_->equations[0]], r.loc,
              "'" + R.name + "' has " + std::to_string(R.rank) + " axes but is read with " +
                  std::to_string(r.subs.size()) + " subscripts");
      throw UserError();
    }
    for (size_t p = 0; p < r.subs.size(); ++p) {
      int v;
      int64_t off;
      if (!r.subs[p].isSimpleVar(v, off) || eq.vars[v].fixed)
        continue;
      unify(eq.vars[v].node, R.axisNodes[p], r.subs[p].loc,
            "index '" + eq.vars[v].name + "' (axis " + std::to_string(p) + " of '" + R.name + "')",
            &eq);
    }
  });
}

bool SemaImpl::propagateRanges() {
  bool any = false;
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t e = 0; e < model_->equations.size(); ++e) {
      if (!eqInSolver_[e])
        continue;
      Equation &eq = model_->equations[e];
      for (auto &ls : eq.lhs) {
        if (ls.var < 0)
          continue;
        Var &v = eq.vars[ls.var];
        if (nodes_[find(v.node)].size >= 0)
          continue;
        int64_t size = -1;
        SourceLoc from;
        std::string fromWhat;
        forEachRead(*eq.rhs, [&](RExpr &r) {
          Tensor &R = model_->tensors[r.tensor];
          if (r.whole || R.rank < 0)
            return;
          for (size_t p = 0; p < r.subs.size(); ++p) {
            const Subscript &s = r.subs[p];
            if (s.indirect)
              continue;
            bool hasV = false, othersKnown = true;
            for (auto &[tv, c] : s.terms) {
              if (tv == ls.var)
                hasV = c == 1;
              else if (nodes_[find(eq.vars[tv].node)].size < 0)
                othersKnown = false;
            }
            int64_t axis = nodes_[find(R.axisNodes[p])].size;
            if (!hasV || !othersKnown || axis < 0)
              continue;
            if (size >= 0 && size != axis) {
              errorIn(eqCallStack_[e], s.loc,
                      "index '" + v.name + "' gets two sizes from its subscripts: " +
                          std::to_string(axis) + " from '" + R.name + "' here and " +
                          std::to_string(size) + " from " + fromWhat);
              diags_.note(from, "size " + std::to_string(size) + " comes from here");
              throw UserError();
            }
            size = axis;
            from = s.loc;
            fromWhat = "'" + R.name + "' at " + locStr(sm_, s.loc);
          }
        });
        if (size >= 0) {
          fixSize(v.node, size, from, "index '" + v.name + "'", &eq);
          changed = any = true;
        }
      }
    }
  }
  return any;
}

bool SemaImpl::tensorShapeKnown(int t) {
  Tensor &T = model_->tensors[t];
  if (T.rank < 0)
    return false;
  if (T.role != Role::Equation)
    return true;
  if (static_cast<int>(T.axisNodes.size()) != T.rank)
    return false;
  for (int n : T.axisNodes)
    if (nodes_[find(n)].size < 0)
      return false;
  return true;
}

std::vector<int64_t> SemaImpl::tensorShape(int t) {
  Tensor &T = model_->tensors[t];
  if (T.role != Role::Equation || static_cast<int>(T.shape.size()) == T.rank)
    return T.shape;
  std::vector<int64_t> s;
  for (int n : T.axisNodes)
    s.push_back(nodes_[find(n)].size);
  return s;
}

/// A whole-tensor equation `a = relu(z) + b` reads every non-scalar tensor
/// elementwise: all of them must have one shape, which the left side takes.
void SemaImpl::expandWhole(Equation &eq) {
  size_t id = &eq - &model_->equations[0];
  std::vector<int64_t> shape;
  const RExpr *first = nullptr;
  bool lhsWhole = eqWhole_[id];
  std::function<void(RExpr &)> visit = [&](RExpr &r) {
    if (r.kind == RKind::Read && r.whole) {
      std::vector<int64_t> s = tensorShape(r.tensor);
      if (!s.empty()) {
        if (!lhsWhole) {
          errorIn(eqCallStack_[id], r.loc,
                  "'" + model_->tensors[r.tensor].name + "' has shape " + shapeStr(s) +
                      "; inside an indexed equation write its subscripts");
          throw UserError();
        }
        if (first && s != shape) {
          errorIn(eqCallStack_[id], r.loc,
                  "shape mismatch: '" + model_->tensors[r.tensor].name + "' has shape " +
                      shapeStr(s) + " but '" + model_->tensors[first->tensor].name +
                      "' has shape " + shapeStr(shape) +
                      " (whole-tensor expressions do not broadcast; write the indices)");
          diags_.note(first->loc, "'" + model_->tensors[first->tensor].name + "' is used here");
          throw UserError();
        }
        if (!first) {
          first = &r;
          shape = s;
        }
      }
    }
    for (auto &k : r.kids)
      visit(*k);
  };
  visit(*eq.rhs);
  std::vector<int> evars;
  for (size_t i = 0; i < shape.size(); ++i) {
    Var v;
    v.name = "_" + std::to_string(i);
    v.loc = eq.loc;
    v.onLhs = true;
    v.fixed = true;
    v.elementwise = true;
    v.eqLevel = true;
    v.size = shape[i];
    eq.vars.push_back(v);
    evars.push_back(static_cast<int>(eq.vars.size()) - 1);
  }
  std::function<void(RExpr &)> fill = [&](RExpr &r) {
    if (r.kind == RKind::Read && r.whole) {
      r.whole = false;
      if (model_->tensors[r.tensor].rank > 0 || !tensorShape(r.tensor).empty())
        for (int v : evars) {
          Subscript s;
          s.loc = r.loc;
          s.terms.push_back({v, 1});
          r.subs.push_back(s);
        }
    }
    for (auto &k : r.kids)
      fill(*k);
  };
  fill(*eq.rhs);
  if (lhsWhole) {
    for (int v : evars)
      eq.lhs.push_back({v, 0});
    if (!eq.isUpdate && !eq.isBoundary)
      model_->tensors[eq.tensor].rank = static_cast<int>(evars.size());
  }
}

void SemaImpl::finishShapes() {
  for (size_t e = 0; e < model_->equations.size(); ++e) {
    Equation &eq = model_->equations[e];
    for (Var &v : eq.vars) {
      v.size = nodes_[find(v.node)].size;
      if (v.size < 0) {
        errorIn(eqCallStack_[e], v.loc,
                "index '" + v.name + "' has no range: no subscript gives it a size; add 'for " +
                    v.name + " in 0..N'");
        throw UserError();
      }
    }
  }
  for (size_t t = 0; t < model_->tensors.size(); ++t) {
    Tensor &T = model_->tensors[t];
    if (T.role != Role::Equation)
      continue;
    if (T.mainEq < 0) {
      diags_.error(T.loc, "'" + T.name + "' has boundary values but no equation defines it");
      throw UserError();
    }
    if (!tensorShapeKnown(static_cast<int>(t))) {
      errorIn(eqCallStack_[T.mainEq], T.loc, "cannot infer the shape of '" + T.name + "'");
      throw UserError();
    }
    T.shape = tensorShape(static_cast<int>(t));
    int64_t n = 1;
    for (int64_t d : T.shape)
      if (__builtin_mul_overflow(n, d, &n) || n > (int64_t(1) << 31)) {
        errorIn(eqCallStack_[T.mainEq], T.loc,
                "tensor '" + T.name + "' " + shapeStr(T.shape) +
                    " is too large (over 2^31 elements)");
        throw UserError();
      }
  }
}

} // namespace gradc::sema
