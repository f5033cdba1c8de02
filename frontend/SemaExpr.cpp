//===- frontend/SemaExpr.cpp - Equations and expressions to RExpr ---------===//
//
// Resolves the names of one equation: tensors, dims, consts, index variables
// (from the left side, `for` clauses, binders, or implicitly from their use
// in subscripts), builtin functions, elementwise defs (expanded in place, with
// their parameters standing for the caller's argument expressions) and
// calls of defs with statements (queued for instantiation; the call becomes a
// whole-tensor reference to the call's result).
//
//===----------------------------------------------------------------------===//
#include "frontend/ASTPrinter.h"
#include "frontend/SemaImpl.h"

#include "support/Assert.h"

#include <algorithm>
#include <functional>
#include <set>

namespace gradc::sema {

static constexpr int kMaxDepth = 256;

int SemaImpl::newVar(Equation &eq, const std::string &name, SourceLoc loc) {
  Var v;
  v.name = name;
  v.loc = loc;
  eq.vars.push_back(v);
  return static_cast<int>(eq.vars.size()) - 1;
}

std::string SemaImpl::uniqueTensorName(const std::string &base) {
  std::string n = base;
  for (int k = 2; model_->findTensor(n) >= 0; ++k)
    n = base + "." + std::to_string(k);
  return n;
}

/// Finds the variable `name` in the binder frames or among the equation's
/// own variables; creates an equation-level variable when `create`.
int SemaImpl::varFor(ExprCtx &cx, const std::string &name, SourceLoc loc, bool create) {
  int depth = static_cast<int>(cx.macros.size());
  for (auto it = cx.frames.rbegin(); it != cx.frames.rend(); ++it) {
    if (it->macroDepth != depth)
      continue;
    auto f = it->vars.find(name);
    if (f != it->vars.end())
      return f->second.empty() ? -1 : f->second[0];
  }
  if (depth > 0)
    return -1; // an elementwise def body sees only its own binders
  for (size_t i = 0; i < cx.eq->vars.size(); ++i)
    if (cx.eq->vars[i].name == name && cx.eq->vars[i].eqLevel)
      return static_cast<int>(i);
  if (!create)
    return -1;
  int v = newVar(*cx.eq, name, loc);
  cx.eq->vars[v].eqLevel = true;
  return v;
}

std::vector<int> SemaImpl::ellipsisVars(ExprCtx &cx, SourceLoc loc) {
  for (auto it = cx.frames.rbegin(); it != cx.frames.rend(); ++it) {
    auto f = it->vars.find("...");
    if (f != it->vars.end())
      return f->second;
  }
  const Scope &s = scopes_[cx.scope];
  if (!s.hasEllipsis)
    fatalIn(cx.scope, loc, "'...' is only meaningful in a def with an x[..., I] argument");
  // The equation's own `...` variables: created on first use.
  std::vector<int> vars;
  for (size_t i = 0; i < s.ellipsis.size(); ++i) {
    std::string n = "..." + std::to_string(i);
    int v = -1;
    for (size_t k = 0; k < cx.eq->vars.size(); ++k)
      if (cx.eq->vars[k].name == n && cx.eq->vars[k].eqLevel)
        v = static_cast<int>(k);
    if (v < 0) {
      v = newVar(*cx.eq, n, loc);
      cx.eq->vars[v].eqLevel = true;
      cx.eq->vars[v].fixed = true;
      cx.eq->vars[v].size = s.ellipsis[i];
    }
    vars.push_back(v);
  }
  return vars;
}

/// Collects the names used inside subscripts: those are index variables
/// wherever else they appear in the equation.
static void collectSubscriptNames(const ast::Expr &e, bool inSub, std::set<std::string> &out,
                                  int depth) {
  if (depth > kMaxDepth)
    return;
  if (auto *n = e.as<ast::NameExpr>()) {
    if (inSub)
      out.insert(n->name);
  } else if (auto *s = e.as<ast::SubscriptExpr>()) {
    for (auto &sub : s->subscripts)
      collectSubscriptNames(*sub, true, out, depth + 1);
  } else if (auto *c = e.as<ast::CallExpr>()) {
    for (auto &a : c->args)
      collectSubscriptNames(*a, inSub, out, depth + 1);
  } else if (auto *b = e.as<ast::BinderExpr>()) {
    for (auto &v : b->vars)
      if (!v.ellipsis && b->op != "softmax" && b->op != "log_softmax")
        continue;
    collectSubscriptNames(*b->body, inSub, out, depth + 1);
  } else if (auto *u = e.as<ast::UnaryExpr>()) {
    collectSubscriptNames(*u->operand, inSub, out, depth + 1);
  } else if (auto *bin = e.as<ast::BinaryExpr>()) {
    collectSubscriptNames(*bin->lhs, inSub, out, depth + 1);
    collectSubscriptNames(*bin->rhs, inSub, out, depth + 1);
  }
}

int SemaImpl::resolveEquation(int scope, const std::vector<const ast::LhsTarget *> &lhs,
                              const ast::Expr &rhs, const std::vector<ast::ForClause> &fors,
                              SourceLoc loc, bool isUpdate, const std::vector<int> &targets) {
  // A def call as the whole right side defines the targets directly.
  if (auto *c = rhs.as<ast::CallExpr>()) {
    const ast::FuncDef *def = findDef(c->callee);
    bool plain = lhs.size() > 1 || (!lhs[0]->hasSubscripts && fors.empty());
    if (def && !def->exprBody && plain && !isUpdate) {
      ExprCtx cx;
      cx.scope = scope;
      cx.stmtBase = stmtBaseOverride_.empty() ? scopes_[scope].prefix + lhs[0]->name : stmtBaseOverride_;
      queueCall(cx, *c, def, targets);
      return -1;
    }
  }
  if (lhs.size() > 1)
    fatalIn(scope, rhs.loc, "several names on the left need a call of a def that returns as many");

  Equation eq;
  eq.tensor = targets[0];
  eq.loc = loc;
  eq.isUpdate = isUpdate;
  ExprCtx cx;
  cx.scope = scope;
  cx.eq = &eq;
  cx.stmtBase = stmtBaseOverride_.empty() ? scopes_[scope].prefix + lhs[0]->name : stmtBaseOverride_;
  const ast::LhsTarget &L = *lhs[0];

  auto checkVarName = [&](const std::string &n, SourceLoc at) {
    if (lookupTensor(scope, n) >= 0)
      fatalIn(scope, at, "'" + n + "' is a tensor; an index variable needs a name of its own");
    bool found;
    lookupDim(scope, n, at, found);
    double c;
    if (found || lookupConst(scope, n, at, c))
      fatalIn(scope, at,
              "'" + n + "' is a " + (found ? "dim" : "const") +
                  "; an index variable needs a name of its own");
  };
  for (auto &f : fors) {
    checkVarName(f.var, f.loc);
    if (varFor(cx, f.var, f.loc, false) >= 0)
      fatalIn(scope, f.loc, "'" + f.var + "' has two for clauses");
    int64_t lo = evalDimExpr(scope, *f.lo), hi = evalDimExpr(scope, *f.hi);
    if (lo != 0)
      fatalIn(scope, f.lo->loc, "ranges start at 0: write 'for " + f.var + " in 0..N'");
    if (hi < 1 || hi > 2147483647)
      fatalIn(scope, f.hi->loc, "the range of '" + f.var + "' must have 1 .. 2^31-1 positions");
    int v = varFor(cx, f.var, f.loc, true);
    eq.vars[v].fixed = true;
    eq.vars[v].size = hi;
  }
  bool boundary = false;
  for (auto &sub : L.subscripts) {
    if (sub->as<ast::EllipsisExpr>()) {
      for (int v : ellipsisVars(cx, sub->loc)) {
        eq.vars[v].onLhs = true;
        eq.lhs.push_back({v, 0});
      }
      continue;
    }
    if (auto *n = sub->as<ast::NameExpr>()) {
      bool found;
      lookupDim(scope, n->name, n->loc, found);
      if (!found) {
        checkVarName(n->name, n->loc);
        int v = varFor(cx, n->name, n->loc, true);
        if (eq.vars[v].onLhs)
          fatalIn(scope, n->loc, "index '" + n->name + "' appears twice on the left side");
        eq.vars[v].onLhs = true;
        eq.lhs.push_back({v, 0});
        continue;
      }
    }
    bool constant = true;
    std::function<bool(const ast::Expr &)> isConst = [&](const ast::Expr &x) -> bool {
      if (x.as<ast::NumberExpr>())
        return true;
      if (auto *nm = x.as<ast::NameExpr>()) {
        bool f;
        lookupDim(scope, nm->name, nm->loc, f);
        return f;
      }
      if (auto *u = x.as<ast::UnaryExpr>())
        return isConst(*u->operand);
      if (auto *b = x.as<ast::BinaryExpr>())
        return isConst(*b->lhs) && isConst(*b->rhs);
      return false;
    };
    constant = isConst(*sub);
    if (!constant)
      fatalIn(scope, sub->loc,
              "a left-side subscript must be an index variable (or, for a boundary value, a "
              "constant position such as -1)");
    boundary = true;
    eq.lhs.push_back({-1, evalDimExpr(scope, *sub)});
  }
  eq.isBoundary = boundary;
  Tensor &T = model_->tensors[eq.tensor];
  if (boundary && (T.role != Role::Equation || isUpdate))
    fatalIn(scope, L.loc, "boundary values belong to tensors defined by a recurrence");
  if (!boundary)
    T.rank = L.hasSubscripts ? static_cast<int>(eq.lhs.size()) : -1;

  collectSubscriptNames(rhs, false, cx.subscriptNames, 0);
  eq.rhs = resolveExpr(cx, rhs, 0);
  eq.rhs->scopeBoundary = true;
  if (returnNeedsAxes_) {
    // The equation's own variables that occur in the expression are free
    // (binders make variables of their own).
    std::set<int> used;
    std::function<void(const RExpr &)> visit = [&](const RExpr &r) {
      if (r.kind == RKind::IndexValue)
        used.insert(r.var);
      for (auto &sub : r.subs) {
        for (auto &[v, c] : sub.terms)
          used.insert(v);
        if (sub.indirect)
          visit(*sub.indirect);
      }
      for (auto &k : r.kids)
        visit(*k);
    };
    visit(*eq.rhs);
    std::string free;
    for (int v : used)
      if (eq.vars[v].eqLevel)
        free += (free.empty() ? "" : ", ") + eq.vars[v].name;
    if (!free.empty())
      fatalIn(scope, rhs.loc,
              "this return has free indices (" + free + "): name the result's axes, e.g. -> [" +
                  free + "], or sum them explicitly");
  }

  int id = static_cast<int>(model_->equations.size());
  if (boundary) {
    model_->tensors[eq.tensor].boundaryEqs.push_back(id);
  } else {
    if (model_->tensors[eq.tensor].mainEq >= 0) {
      errorIn(scopes_[scope].callStack, loc,
              "redefinition of '" + model_->tensors[eq.tensor].name + "'");
      diags_.note(model_->equations[model_->tensors[eq.tensor].mainEq].loc,
                  "first defined here");
      throw UserError();
    }
    model_->tensors[eq.tensor].mainEq = id;
  }
  bool whole = !L.hasSubscripts;
  model_->equations.push_back(std::move(eq));
  eqScope_.push_back(scope);
  eqWhole_.push_back(whole);
  eqCallStack_.push_back(scopes_[scope].callStack);
  if (whole || cx.hasWhole)
    wholes_.push_back({id, false});
  return id;
}

RExprPtr SemaImpl::resolveExpr(ExprCtx &cx, const ast::Expr &e, int depth) {
  if (depth > kMaxDepth)
    fatalIn(cx.scope, e.loc, "nesting deeper than 256 levels");
  if (++cx.nodes > 1000000)
    fatalIn(cx.scope, e.loc,
            "this equation grows past a million terms when its elementwise defs are expanded");
  auto node = [&](RKind k) {
    auto r = std::make_unique<RExpr>();
    r->kind = k;
    r->loc = e.loc;
    return r;
  };
  switch (e.kind) {
  case ast::ExprKind::Number: {
    auto r = node(RKind::Number);
    r->value = e.as<ast::NumberExpr>()->value;
    return r;
  }
  case ast::ExprKind::Name:
    return resolveName(cx, *e.as<ast::NameExpr>(), depth);
  case ast::ExprKind::Subscript:
    return resolveRead(cx, *e.as<ast::SubscriptExpr>(), depth);
  case ast::ExprKind::Ellipsis:
    fatalIn(cx.scope, e.loc, "'...' stands for axes in subscripts, not for a value");
  case ast::ExprKind::Call:
    return resolveCall(cx, *e.as<ast::CallExpr>(), depth);
  case ast::ExprKind::Binder:
    return resolveBinder(cx, *e.as<ast::BinderExpr>(), depth);
  case ast::ExprKind::Unary: {
    auto r = node(RKind::Unary);
    r->op = ir::OpKind::Neg;
    r->kids.push_back(resolveExpr(cx, *e.as<ast::UnaryExpr>()->operand, depth + 1));
    return r;
  }
  case ast::ExprKind::Binary: {
    auto *b = e.as<ast::BinaryExpr>();
    if (b->op == ast::BinaryOp::Pow) {
      // The exponent is a constant: a number, dim or const, possibly negative.
      double p;
      try {
        p = evalConstExprQuiet(cx.scope, *b->rhs);
      } catch (const NotConstant &) {
        fatalIn(cx.scope, b->rhs->loc, "the exponent of '^' must be a constant");
      }
      auto r = node(RKind::Unary);
      r->loc = b->opLoc;
      r->op = ir::OpKind::PowC;
      r->value = p;
      r->kids.push_back(resolveExpr(cx, *b->lhs, depth + 1));
      return r;
    }
    static const std::pair<ast::BinaryOp, ir::OpKind> ops[] = {
        {ast::BinaryOp::Add, ir::OpKind::Add}, {ast::BinaryOp::Sub, ir::OpKind::Sub},
        {ast::BinaryOp::Mul, ir::OpKind::Mul}, {ast::BinaryOp::Div, ir::OpKind::Div},
        {ast::BinaryOp::Lt, ir::OpKind::Lt},   {ast::BinaryOp::Le, ir::OpKind::Le},
        {ast::BinaryOp::Gt, ir::OpKind::Gt},   {ast::BinaryOp::Ge, ir::OpKind::Ge},
        {ast::BinaryOp::Eq, ir::OpKind::Eq},   {ast::BinaryOp::Ne, ir::OpKind::Ne}};
    auto r = node(RKind::Binary);
    r->loc = b->opLoc;
    for (auto &[a, k] : ops)
      if (a == b->op)
        r->op = k;
    r->kids.push_back(resolveExpr(cx, *b->lhs, depth + 1));
    r->kids.push_back(resolveExpr(cx, *b->rhs, depth + 1));
    return r;
  }
  }
  GRADC_UNREACHABLE("unknown expression kind");
}

RExprPtr SemaImpl::resolveName(ExprCtx &cx, const ast::NameExpr &n, int depth) {
  // A parameter of an elementwise def stands for the caller's argument,
  // resolved where the caller wrote it (hygiene).
  if (!cx.macros.empty()) {
    auto it = cx.macros.back().args.find(n.name);
    if (it != cx.macros.back().args.end()) {
      ExprCtx::Macro m = std::move(cx.macros.back());
      cx.macros.pop_back();
      RExprPtr r = resolveExpr(cx, *it->second, depth + 1);
      cx.macros.push_back(std::move(m));
      return r;
    }
  }
  auto r = std::make_unique<RExpr>();
  r->loc = n.loc;
  int v = varFor(cx, n.name, n.loc, false);
  if (v >= 0) {
    r->kind = RKind::IndexValue;
    r->var = v;
    return r;
  }
  if (n.name == "training") {
    r->kind = RKind::Training;
    return r;
  }
  if (!cx.macros.empty())
    fatalIn(cx.scope, n.loc,
            "unknown name '" + n.name + "' in the body of '" + cx.macros.back().def->name +
                "' (an elementwise def sees only its parameters)");
  int t = lookupTensor(cx.scope, n.name);
  if (t >= 0) {
    r->kind = RKind::Read;
    r->tensor = t;
    r->whole = true;
    cx.hasWhole = true;
    return r;
  }
  bool found;
  int64_t d = lookupDim(cx.scope, n.name, n.loc, found);
  if (found) {
    r->kind = RKind::Number;
    r->value = static_cast<double>(d);
    return r;
  }
  double c;
  if (lookupConst(cx.scope, n.name, n.loc, c)) {
    r->kind = RKind::Number;
    r->value = c;
    return r;
  }
  if (cx.subscriptNames.count(n.name)) {
    r->kind = RKind::IndexValue;
    r->var = varFor(cx, n.name, n.loc, true);
    return r;
  }
  if (findDef(n.name))
    fatalIn(cx.scope, n.loc, "'" + n.name + "' is a function; call it with arguments");
  fatalIn(cx.scope, n.loc, "unknown name '" + n.name + "'");
}

RExprPtr SemaImpl::resolveRead(ExprCtx &cx, const ast::SubscriptExpr &s, int depth) {
  if (!cx.macros.empty() && cx.macros.back().args.count(s.name))
    fatalIn(cx.scope, s.loc,
            "a parameter of an elementwise def is a value; it cannot be subscripted");
  int t = cx.macros.empty() ? lookupTensor(cx.scope, s.name) : -1;
  if (t < 0) {
    bool found;
    lookupDim(cx.scope, s.name, s.loc, found);
    if (found)
      fatalIn(cx.scope, s.loc, "'" + s.name + "' is a dim, not a tensor");
    fatalIn(cx.scope, s.loc, "unknown tensor '" + s.name + "'");
  }
  auto r = std::make_unique<RExpr>();
  r->kind = RKind::Read;
  r->loc = s.loc;
  r->tensor = t;
  for (auto &sub : s.subscripts) {
    if (sub->as<ast::EllipsisExpr>()) {
      for (int v : ellipsisVars(cx, sub->loc)) {
        Subscript x;
        x.loc = sub->loc;
        x.terms.push_back({v, 1});
        r->subs.push_back(std::move(x));
      }
      continue;
    }
    Subscript x;
    resolveSubscript(cx, *r, *sub, x, depth + 1);
    r->subs.push_back(std::move(x));
  }
  const Tensor &T = model_->tensors[t];
  if (T.rank >= 0 && static_cast<int>(r->subs.size()) != T.rank)
    fatalIn(cx.scope, s.loc,
            "'" + s.name + "' has " + std::to_string(T.rank) + " ax" +
                (T.rank == 1 ? "is" : "es") + " but is read with " +
                std::to_string(r->subs.size()) + " subscript" + (r->subs.size() == 1 ? "" : "s"));
  return r;
}

/// Adds scale * e to `out` when e is affine in index variables and dims.
bool SemaImpl::affineOf(ExprCtx &cx, const ast::Expr &e, Subscript &out, int64_t scale) {
  auto addConst = [&](int64_t v) {
    int64_t prod;
    if (__builtin_mul_overflow(scale, v, &prod) ||
        __builtin_add_overflow(out.constant, prod, &out.constant) ||
        out.constant > (int64_t(1) << 40) || out.constant < -(int64_t(1) << 40))
      fatalIn(cx.scope, e.loc, "subscript arithmetic overflows");
  };
  if (auto *n = e.as<ast::NumberExpr>()) {
    if (!n->isInteger)
      fatalIn(cx.scope, e.loc, "a subscript must be a whole number, not '" + n->text + "'");
    if (n->value > 1e12)
      fatalIn(cx.scope, e.loc, "subscript constant '" + n->text + "' is too large");
    addConst(static_cast<int64_t>(n->value));
    return true;
  }
  if (auto *nm = e.as<ast::NameExpr>()) {
    int v = varFor(cx, nm->name, nm->loc, false);
    if (v < 0) {
      bool found;
      int64_t d = lookupDim(cx.scope, nm->name, nm->loc, found);
      if (found) {
        addConst(d);
        return true;
      }
      if (lookupTensor(cx.scope, nm->name) >= 0)
        fatalIn(cx.scope, e.loc, "'" + nm->name + "' is a tensor, not an index variable");
      double c;
      if (lookupConst(cx.scope, nm->name, nm->loc, c))
        fatalIn(cx.scope, e.loc, "'" + nm->name + "' is a const; subscripts use dims and indices");
      if (!cx.macros.empty())
        fatalIn(cx.scope, e.loc, "unknown name '" + nm->name + "'");
      v = varFor(cx, nm->name, nm->loc, true);
    }
    if (scale > (int64_t(1) << 30) || scale < -(int64_t(1) << 30))
      fatalIn(cx.scope, e.loc, "subscript arithmetic overflows");
    for (auto &term : out.terms)
      if (term.first == v) {
        term.second += scale;
        return true;
      }
    out.terms.push_back({v, scale});
    return true;
  }
  if (auto *u = e.as<ast::UnaryExpr>())
    return affineOf(cx, *u->operand, out, -scale);
  if (auto *b = e.as<ast::BinaryExpr>()) {
    if (b->op == ast::BinaryOp::Add || b->op == ast::BinaryOp::Sub)
      return affineOf(cx, *b->lhs, out, scale) &&
             affineOf(cx, *b->rhs, out, b->op == ast::BinaryOp::Add ? scale : -scale);
    if (b->op == ast::BinaryOp::Mul) {
      // One side must be a constant (numbers and dims).
      try {
        int64_t k = evalDimExprQuiet(cx.scope, *b->lhs);
        int64_t sk;
        if (__builtin_mul_overflow(scale, k, &sk))
          fatalIn(cx.scope, e.loc, "subscript arithmetic overflows");
        return affineOf(cx, *b->rhs, out, sk);
      } catch (const NotConstant &) {
      }
      try {
        int64_t k = evalDimExprQuiet(cx.scope, *b->rhs);
        int64_t sk;
        if (__builtin_mul_overflow(scale, k, &sk))
          fatalIn(cx.scope, e.loc, "subscript arithmetic overflows");
        return affineOf(cx, *b->lhs, out, sk);
      } catch (const NotConstant &) {
      }
      return false;
    }
    if (b->op == ast::BinaryOp::Div) {
      try {
        addConst(evalDimExprQuiet(cx.scope, e));
        return true;
      } catch (const NotConstant &) {
        return false;
      }
    }
  }
  return false;
}

void SemaImpl::resolveSubscript(ExprCtx &cx, RExpr &read, const ast::Expr &e, Subscript &out,
                                int depth) {
  out.loc = e.loc;
  // Indirect: an int tensor read, possibly plus or minus a constant.
  const ast::SubscriptExpr *ind = e.as<ast::SubscriptExpr>();
  const ast::Expr *offset = nullptr;
  int sign = 1;
  if (auto *b = e.as<ast::BinaryExpr>();
      b && (b->op == ast::BinaryOp::Add || b->op == ast::BinaryOp::Sub)) {
    if (b->lhs->as<ast::SubscriptExpr>()) {
      ind = b->lhs->as<ast::SubscriptExpr>();
      offset = b->rhs.get();
      sign = b->op == ast::BinaryOp::Add ? 1 : -1;
    } else if (b->rhs->as<ast::SubscriptExpr>() && b->op == ast::BinaryOp::Add) {
      ind = b->rhs->as<ast::SubscriptExpr>();
      offset = b->lhs.get();
    }
  }
  if (ind) {
    RExprPtr r = resolveRead(cx, *ind, depth + 1);
    out.indirect = r.get();
    read.ownedIndirect.push_back(std::move(r));
    if (offset) {
      try {
        out.constant = sign * evalDimExprQuiet(cx.scope, *offset);
      } catch (const NotConstant &) {
        fatalIn(cx.scope, offset->loc,
                "an indirect index is an int tensor read plus a constant, e.g. tok[b, t] + 1");
      }
    }
    return;
  }
  if (!affineOf(cx, e, out, 1))
    fatalIn(cx.scope, e.loc,
            "subscript '" + printExpr(e) +
                "' is not affine: use sums of index variables times constants, plus constants");
  out.terms.erase(std::remove_if(out.terms.begin(), out.terms.end(),
                                 [](auto &t) { return t.second == 0; }),
                  out.terms.end());
}

} // namespace gradc::sema
