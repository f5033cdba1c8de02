//===- frontend/Summation.cpp - Implicit summation and int/f32 typing -----===//
//
// Algorithm (LANGUAGE.md, "Implicit summation"), for each index variable v
// that occurs free on the right side but not on the left:
//  1. Find its free occurrences: reads whose subscripts mention v, uses of v
//     as a value, and softmax/log_softmax nodes over v (opaque: v is free
//     outside them, normalized inside).
//  2. S = the smallest call argument, binder body or right side containing
//     all of them.
//  3. Inside S, the smallest product containing them all: a chain of factors
//     joined by * and / (continued only through the left operand, since the
//     parser builds chains left to right; a right operand is a parenthesized
//     factor), or a lone factor. v is summed over that product.
//  4. If there is none, S is a sum: v is summed over each summand of S that
//     mentions it, so a summand without v is not multiplied by its range.
// Variables summed over the same node share one Sum.
//
//===----------------------------------------------------------------------===//
#include "frontend/SemaImpl.h"

#include "support/Assert.h"

#include <algorithm>
#include <functional>
#include <map>

namespace gradc::sema {

namespace {

struct TreeInfo {
  std::map<RExpr *, RExpr *> parent;
  std::map<RExpr *, int> childIndex;
};

void buildTree(RExpr *e, TreeInfo &ti) {
  for (size_t i = 0; i < e->kids.size(); ++i) {
    ti.parent[e->kids[i].get()] = e;
    ti.childIndex[e->kids[i].get()] = static_cast<int>(i);
    buildTree(e->kids[i].get(), ti);
  }
}

bool mentions(const RExpr &e, int v) {
  if (e.kind == RKind::IndexValue && e.var == v)
    return true;
  if (e.kind == RKind::Read)
    for (auto &s : e.subs) {
      for (auto &[tv, c] : s.terms)
        if (tv == v)
          return true;
      if (s.indirect && mentions(*s.indirect, v))
        return true;
    }
  return false;
}

/// Free occurrences of v below e (not descending into binders that bind v).
void occurrences(RExpr *e, int v, std::vector<RExpr *> &out) {
  if ((e->kind == RKind::Sum || e->kind == RKind::Reduce) &&
      std::count(e->vars.begin(), e->vars.end(), v))
    return;
  if (e->kind == RKind::Normalize && std::count(e->vars.begin(), e->vars.end(), v)) {
    out.push_back(e);
    return;
  }
  if (mentions(*e, v))
    out.push_back(e);
  for (auto &k : e->kids)
    occurrences(k.get(), v, out);
}

bool isMulDiv(const RExpr *e) {
  return e->kind == RKind::Binary && (e->op == ir::OpKind::Mul || e->op == ir::OpKind::Div);
}
bool isAddSub(const RExpr *e) {
  return e->kind == RKind::Binary && (e->op == ir::OpKind::Add || e->op == ir::OpKind::Sub);
}

bool isProduct(RExpr *n, TreeInfo &ti) {
  if (isAddSub(n))
    return false;
  RExpr *p = ti.parent.count(n) ? ti.parent[n] : nullptr;
  bool inChain = p && isMulDiv(p) && !n->scopeBoundary;
  if (isMulDiv(n))
    return !inChain || ti.childIndex[n] == 1;
  return !inChain;
}

void flattenSummands(RExpr *e, std::vector<RExpr *> &out) {
  if (isAddSub(e) && !e->kids[0]->scopeBoundary) {
    flattenSummands(e->kids[0].get(), out);
    flattenSummands(e->kids[1].get(), out);
    return;
  }
  out.push_back(e);
}

bool contains(RExpr *root, RExpr *x, TreeInfo &ti) {
  for (RExpr *n = x; n; n = ti.parent.count(n) ? ti.parent[n] : nullptr)
    if (n == root)
      return true;
  return false;
}

} // namespace

void SemaImpl::insertImplicitSums(Equation &eq) {
  size_t id = &eq - &model_->equations[0];
  TreeInfo ti;
  RExpr *root = eq.rhs.get();
  buildTree(root, ti);
  std::map<RExpr *, std::vector<int>> targets;
  std::vector<RExpr *> order;
  for (size_t v = 0; v < eq.vars.size(); ++v) {
    const Var &var = eq.vars[v];
    if (var.onLhs || !var.eqLevel)
      continue;
    std::vector<RExpr *> occ;
    occurrences(root, static_cast<int>(v), occ);
    if (occ.empty())
      continue;
    // Lowest common ancestor of the occurrences.
    auto pathOf = [&](RExpr *n) {
      std::vector<RExpr *> p;
      for (; n; n = ti.parent.count(n) ? ti.parent[n] : nullptr)
        p.push_back(n);
      std::reverse(p.begin(), p.end());
      return p;
    };
    std::vector<RExpr *> lca = pathOf(occ[0]);
    for (size_t i = 1; i < occ.size(); ++i) {
      std::vector<RExpr *> p = pathOf(occ[i]);
      size_t k = 0;
      while (k < lca.size() && k < p.size() && lca[k] == p[k])
        ++k;
      lca.resize(k);
    }
    RExpr *L = lca.back();
    // The enclosing scope S: a call argument, binder body, or the right side.
    RExpr *S = L;
    while (!S->scopeBoundary && ti.parent.count(S))
      S = ti.parent[S];
    RExpr *target = nullptr;
    for (RExpr *n = L;; n = ti.parent[n]) {
      if (isProduct(n, ti)) {
        target = n;
        break;
      }
      if (n == S)
        break;
    }
    std::vector<RExpr *> chosen;
    if (target) {
      chosen.push_back(target);
      if (target == S && S->callee && target->kind == RKind::Read)
        warnIn(eqCallStack_[id], target->loc,
               "index '" + var.name + "' is summed inside the argument of '" + S->callee +
                   "' (implicit summation); to apply '" + S->callee +
                   "' to each element and sum the results, write sum(" + var.name + ": " +
                   S->callee + "(...))");
    } else {
      std::vector<RExpr *> summands;
      flattenSummands(S, summands);
      for (RExpr *s : summands)
        for (RExpr *o : occ)
          if (contains(s, o, ti)) {
            chosen.push_back(s);
            break;
          }
    }
    for (RExpr *c : chosen) {
      if (!targets.count(c))
        order.push_back(c);
      targets[c].push_back(static_cast<int>(v));
    }
  }
  // Wrap each chosen node in a Sum over its variables.
  for (RExpr *n : order) {
    auto sum = std::make_unique<RExpr>();
    sum->kind = RKind::Sum;
    sum->loc = n->loc;
    sum->vars = targets[n];
    sum->implicitSum = true;
    if (n == root) {
      sum->kids.push_back(std::move(eq.rhs));
      sum->scopeBoundary = true;
      eq.rhs = std::move(sum);
      root = eq.rhs.get();
      continue;
    }
    RExpr *p = ti.parent[n];
    int i = ti.childIndex[n];
    sum->scopeBoundary = n->scopeBoundary;
    sum->callee = n->callee;
    sum->kids.push_back(std::move(p->kids[i]));
    p->kids[i] = std::move(sum);
    ti.parent[p->kids[i].get()] = p;
    ti.childIndex[p->kids[i].get()] = i;
    ti.parent[n] = p->kids[i].get();
    ti.childIndex[n] = 0;
  }
}

/// int values (int inputs, argmax, index variables) may appear only in
/// subscripts, comparisons and where conditions, or be copied whole.
bool SemaImpl::typeEquation(Equation &eq, bool report) {
  size_t id = &eq - &model_->equations[0];
  auto fail = [&](const RExpr &at, const std::string &msg) {
    if (!report)
      return;
    errorIn(eqCallStack_[id], at.loc, msg);
    throw UserError();
  };
  std::function<void(RExpr &)> visit = [&](RExpr &e) {
    for (auto &k : e.kids)
      visit(*k);
    if (e.kind == RKind::Read)
      for (auto &s : e.subs)
        if (s.indirect) {
          visit(*s.indirect);
          if (!s.indirect->isInt)
            fail(*s.indirect, "subscript reads '" + model_->tensors[s.indirect->tensor].name +
                                  "', which is not an int tensor");
        }
    auto needF32 = [&](const RExpr &k) {
      if (k.isInt)
        fail(k, "int where f32 is needed: int values (int inputs, argmax, index variables) "
                "may only be compared, used in subscripts, or copied");
    };
    switch (e.kind) {
    case RKind::Read:
      e.isInt = model_->tensors[e.tensor].isInt;
      break;
    case RKind::IndexValue:
      e.isInt = true;
      break;
    case RKind::Reduce:
      if (e.op == ir::OpKind::ArgMax) {
        needF32(*e.kids[0]);
        e.isInt = true;
      } else {
        needF32(*e.kids[0]);
      }
      break;
    case RKind::Binary:
      if (!ir::isComparison(e.op)) {
        needF32(*e.kids[0]);
        needF32(*e.kids[1]);
      }
      break;
    case RKind::Where:
      if (e.kids[1]->isInt != e.kids[2]->isInt)
        fail(e, "the branches of where() must both be f32 or both int");
      e.isInt = e.kids[1]->isInt;
      break;
    case RKind::Unary:
    case RKind::Sum:
    case RKind::Normalize:
      needF32(*e.kids[0]);
      break;
    default:
      break;
    }
  };
  visit(*eq.rhs);
  Tensor &T = model_->tensors[eq.tensor];
  if (eq.isBoundary || eq.isUpdate) {
    const Tensor &Target =
        eq.isUpdate ? T : model_->tensors[eq.tensor]; // boundary: the recurrence tensor
    if (eq.rhs->isInt != Target.isInt)
      fail(*eq.rhs, std::string("'") + Target.name + "' is " + (Target.isInt ? "int" : "f32") +
                        " but this value is " + (eq.rhs->isInt ? "int" : "f32"));
    return false;
  }
  bool changed = T.isInt != eq.rhs->isInt;
  T.isInt = eq.rhs->isInt;
  return changed;
}

} // namespace gradc::sema
