//===- frontend/SemaCall.cpp - Calls, binders and def instantiation -------===//
//
// Builtin functions become RExpr nodes; elementwise defs are expanded in
// place; defs with statements are queued and later instantiated in a scope
// of their own whose names are prefixed with the call's path (z2., z2.2.,
// enc.l1.), so the body's names never capture the caller's.
//
//===----------------------------------------------------------------------===//
#include "frontend/SemaImpl.h"

#include "support/Assert.h"

#include <algorithm>

namespace gradc::sema {

namespace {
struct Builtin {
  const char *name;
  RKind kind;
  ir::OpKind op;
  int arity;
};
const Builtin kBuiltins[] = {
    {"exp", RKind::Unary, ir::OpKind::Exp, 1},
    {"log", RKind::Unary, ir::OpKind::Log, 1},
    {"sqrt", RKind::Unary, ir::OpKind::Sqrt, 1},
    {"rsqrt", RKind::Unary, ir::OpKind::Rsqrt, 1},
    {"abs", RKind::Unary, ir::OpKind::Abs, 1},
    {"tanh", RKind::Unary, ir::OpKind::Tanh, 1},
    {"sigmoid", RKind::Unary, ir::OpKind::Sigmoid, 1},
    {"relu", RKind::Unary, ir::OpKind::Relu, 1},
    {"softplus", RKind::Unary, ir::OpKind::Softplus, 1},
    {"sin", RKind::Unary, ir::OpKind::Sin, 1},
    {"cos", RKind::Unary, ir::OpKind::Cos, 1},
    {"stop_gradient", RKind::Unary, ir::OpKind::StopGrad, 1},
    {"leaky_relu", RKind::Binary, ir::OpKind::LeakyRelu, 2},
    {"max", RKind::Binary, ir::OpKind::Max, 2},
    {"min", RKind::Binary, ir::OpKind::Min, 2},
    {"where", RKind::Where, ir::OpKind::Where, 3},
};
} // namespace

RExprPtr SemaImpl::resolveCall(ExprCtx &cx, const ast::CallExpr &c, int depth) {
  auto node = [&](RKind k) {
    auto r = std::make_unique<RExpr>();
    r->kind = k;
    r->loc = c.loc;
    return r;
  };
  auto argOf = [&](size_t i, const char *callee) {
    RExprPtr a = resolveExpr(cx, *c.args[i], depth + 1);
    a->scopeBoundary = true;
    a->callee = callee;
    return a;
  };
  auto arity = [&](size_t n) {
    if (c.args.size() != n)
      fatalIn(cx.scope, c.loc,
              "'" + c.callee + "' takes " + std::to_string(n) + " argument" +
                  (n == 1 ? "" : "s") + ", not " + std::to_string(c.args.size()));
    if (!c.namedArgs.empty())
      fatalIn(cx.scope, c.namedArgs[0].loc,
              "'" + c.callee + "' has no argument named '" + c.namedArgs[0].name + "'");
  };
  for (const Builtin &b : kBuiltins) {
    if (c.callee != b.name)
      continue;
    arity(b.arity);
    auto r = node(b.kind);
    r->op = b.op;
    for (int i = 0; i < b.arity; ++i)
      r->kids.push_back(argOf(i, b.name));
    return r;
  }
  if (c.callee == "clip") {
    // clip(x, lo, hi) = min(max(x, lo), hi): inside the range the gradient
    // goes to x; at a bound, ties go to the first argument (x) as well.
    arity(3);
    auto mx = node(RKind::Binary);
    mx->op = ir::OpKind::Max;
    mx->kids.push_back(argOf(0, "clip"));
    mx->kids.push_back(argOf(1, "clip"));
    auto mn = node(RKind::Binary);
    mn->op = ir::OpKind::Min;
    mn->kids.push_back(std::move(mx));
    mn->kids.push_back(argOf(2, "clip"));
    return mn;
  }
  if (c.callee == "count") {
    auto r = node(RKind::Count);
    if (c.args.empty())
      fatalIn(cx.scope, c.loc, "count() names the indices to count: count(i, j) or count(...)");
    for (auto &a : c.args) {
      if (a->as<ast::EllipsisExpr>()) {
        for (int v : ellipsisVars(cx, a->loc))
          r->vars.push_back(v);
        continue;
      }
      auto *n = a->as<ast::NameExpr>();
      if (!n)
        fatalIn(cx.scope, a->loc, "count() takes index variables");
      int v = varFor(cx, n->name, n->loc, false);
      if (v < 0) // a binder variable out of scope: the latest of that name
        for (int k = static_cast<int>(cx.eq->vars.size()) - 1; k >= 0 && v < 0; --k)
          if (cx.eq->vars[k].name == n->name)
            v = k;
      if (v < 0)
        fatalIn(cx.scope, a->loc, "'" + n->name + "' is not an index variable of this equation");
      r->vars.push_back(v);
    }
    return r;
  }
  static const char *binders[] = {"sum", "mean", "max", "min", "logsumexp", "argmax",
                                  "softmax", "log_softmax"};
  for (const char *b : binders)
    if (c.callee == b && std::string(b) != "max" && std::string(b) != "min")
      fatalIn(cx.scope, c.loc,
              "'" + c.callee + "' binds its indices: write " + c.callee + "(i: ...)");
  const ast::FuncDef *def = findDef(c.callee);
  if (!def)
    fatalIn(cx.scope, c.calleeLoc, "unknown function '" + c.callee + "'");
  if (def->exprBody) {
    // An elementwise def: its body with the parameters standing for the
    // arguments (resolved in the caller's context).
    arity(def->params.size());
    for (auto &m : cx.macros)
      if (m.def == def)
        fatalIn(cx.scope, c.loc, "recursion: '" + def->name + "' calls itself");
    if (cx.macros.size() > 64)
      fatalIn(cx.scope, c.loc, "elementwise defs nested too deeply");
    ExprCtx::Macro m{def, {}};
    for (size_t i = 0; i < def->params.size(); ++i) {
      if (def->params[i].kind != ast::ParamKind::Bare)
        fatalIn(cx.scope, def->params[i].loc, "an elementwise def takes bare parameters");
      m.args[def->params[i].name] = c.args[i].get();
    }
    cx.macros.push_back(std::move(m));
    DiagContextScope note(diags_, c.loc, "in this call of '" + def->name + "'");
    RExprPtr body = resolveExpr(cx, *def->exprBody, depth + 1);
    cx.macros.pop_back();
    body->scopeBoundary = true;
    return body;
  }
  if (!cx.macros.empty())
    fatalIn(cx.scope, c.loc, "an elementwise def cannot call '" + def->name +
                                 "', which has statements");
  int result = queueCall(cx, c, def, {});
  auto r = node(RKind::Read);
  r->tensor = result;
  r->whole = true;
  cx.hasWhole = true;
  return r;
}

RExprPtr SemaImpl::resolveBinder(ExprCtx &cx, const ast::BinderExpr &b, int depth) {
  enum { SumLike, Normalizing } cls;
  RKind kind;
  ir::OpKind op = ir::OpKind::ReduceSum;
  bool mean = false;
  if (b.op == "sum" || b.op == "mean") {
    cls = SumLike, kind = RKind::Sum, mean = b.op == "mean";
  } else if (b.op == "max" || b.op == "min" || b.op == "logsumexp" || b.op == "argmax") {
    cls = SumLike, kind = RKind::Reduce;
    op = b.op == "max"         ? ir::OpKind::ReduceMax
         : b.op == "min"       ? ir::OpKind::ReduceMin
         : b.op == "logsumexp" ? ir::OpKind::LogSumExp
                               : ir::OpKind::ArgMax;
  } else if (b.op == "softmax" || b.op == "log_softmax") {
    cls = Normalizing, kind = RKind::Normalize;
    op = b.op == "softmax" ? ir::OpKind::Softmax : ir::OpKind::LogSoftmax;
  } else {
    fatalIn(cx.scope, b.opLoc,
            "'" + b.op + "' does not bind indices; binders are sum, mean, max, min, "
                         "logsumexp, argmax, softmax and log_softmax");
  }
  ExprCtx::Frame frame;
  frame.macroDepth = static_cast<int>(cx.macros.size());
  std::vector<int> vars;
  for (const ast::BoundVar &bv : b.vars) {
    if (bv.ellipsis) {
      std::vector<int> outer = ellipsisVars(cx, bv.loc);
      std::vector<int> mine;
      for (int v : outer) {
        if (cls == Normalizing) {
          mine.push_back(v);
          continue;
        }
        if (cx.eq->vars[v].onLhs)
          fatalIn(cx.scope, bv.loc, "binding the left-side indices '...' with a reduction");
        int nv = newVar(*cx.eq, cx.eq->vars[v].name, bv.loc);
        cx.eq->vars[nv].fixed = cx.eq->vars[v].fixed;
        cx.eq->vars[nv].size = cx.eq->vars[v].size;
        mine.push_back(nv);
      }
      frame.vars["..."] = mine;
      vars.insert(vars.end(), mine.begin(), mine.end());
      continue;
    }
    if (lookupTensor(cx.scope, bv.name) >= 0)
      fatalIn(cx.scope, bv.loc, "'" + bv.name + "' is a tensor; an index variable needs a name of its own");
    int v;
    if (cls == Normalizing) {
      v = varFor(cx, bv.name, bv.loc, true);
    } else {
      int outer = varFor(cx, bv.name, bv.loc, false);
      if (outer >= 0 && cx.eq->vars[outer].onLhs)
        fatalIn(cx.scope, bv.loc,
                "binding the left-side index '" + bv.name + "' with a reduction; '" + bv.name +
                    "' already ranges over the result");
      v = newVar(*cx.eq, bv.name, bv.loc);
    }
    if (bv.lo) {
      int64_t lo = evalDimExpr(cx.scope, *bv.lo), hi = evalDimExpr(cx.scope, *bv.hi);
      if (lo != 0)
        fatalIn(cx.scope, bv.lo->loc, "ranges start at 0: write '" + bv.name + " in 0..N'");
      if (hi < 1)
        fatalIn(cx.scope, bv.hi->loc, "the range of '" + bv.name + "' is empty");
      cx.eq->vars[v].fixed = true;
      cx.eq->vars[v].size = hi;
    }
    frame.vars[bv.name] = {v};
    vars.push_back(v);
  }
  if (op == ir::OpKind::ArgMax && vars.size() != 1)
    fatalIn(cx.scope, b.loc, "argmax binds exactly one index");
  if (cls == SumLike)
    cx.frames.push_back(frame);
  RExprPtr body = resolveExpr(cx, *b.body, depth + 1);
  if (cls == SumLike)
    cx.frames.pop_back();
  body->scopeBoundary = true;
  auto r = std::make_unique<RExpr>();
  r->kind = kind;
  r->loc = b.loc;
  r->op = op;
  r->vars = vars;
  r->kids.push_back(std::move(body));
  if (!mean)
    return r;
  // mean(v: E) = sum(v: E) / count(v)
  auto cnt = std::make_unique<RExpr>();
  cnt->kind = RKind::Count;
  cnt->loc = b.loc;
  cnt->vars = vars;
  auto div = std::make_unique<RExpr>();
  div->kind = RKind::Binary;
  div->op = ir::OpKind::Div;
  div->loc = b.loc;
  div->kids.push_back(std::move(r));
  div->kids.push_back(std::move(cnt));
  return div;
}

int SemaImpl::materializeArg(ExprCtx &cx, const ast::Expr &e, const std::string &name) {
  int t = newTensor(uniqueTensorName(name), e.loc, Role::Equation);
  ast::LhsTarget lhs;
  lhs.name = model_->tensors[t].name;
  lhs.loc = e.loc;
  // Calls inside the argument belong to the statement being resolved: they
  // continue its numbering (h = dropout(tanh(dense(x, D)), p) gives h.W).
  std::string savedBase = stmtBaseOverride_;
  stmtBaseOverride_ = cx.stmtBase;
  resolveEquation(cx.scope, {&lhs}, e, {}, e.loc, false, {t});
  stmtBaseOverride_ = savedBase;
  return t;
}

int SemaImpl::queueCall(ExprCtx &cx, const ast::CallExpr &c, const ast::FuncDef *def,
                        const std::vector<int> &targets) {
  if (c.args.size() != def->params.size())
    fatalIn(cx.scope, c.loc,
            "'" + def->name + "' takes " + std::to_string(def->params.size()) + " argument" +
                (def->params.size() == 1 ? "" : "s") + ", not " + std::to_string(c.args.size()));
  if (!c.namedArgs.empty())
    fatalIn(cx.scope, c.namedArgs[0].loc, "defs take positional arguments");
  PendingCall pc;
  pc.def = def;
  pc.call = &c;
  pc.scope = cx.scope;
  for (auto &f : scopes_[cx.scope].callStack)
    (void)f;
  // Recursion: the def may not already be on the chain of calls.
  if (scopes_[cx.scope].def == def)
    fatalIn(cx.scope, c.loc, "recursion: '" + def->name + "' calls itself");
  pc.defStack = callDefs_[cx.scope];
  if (std::find(pc.defStack.begin(), pc.defStack.end(), def) != pc.defStack.end())
    fatalIn(cx.scope, c.loc, "recursion: '" + def->name + "' calls itself through other defs");
  pc.defStack.push_back(def);

  // The call's path: the k-th call of the statement that declares params or
  // state is base (k = 1) or base.k; other calls get base.callee.
  std::string base = cx.stmtBase;
  if (defDeclaresState(def)) {
    int k = ++scopes_[cx.scope].callCounter;
    pc.path = base + (k >= 2 ? "." + std::to_string(k) : "") + ".";
  } else {
    pc.path = base + "." + def->name + ".";
  }
  while (usedPaths_.count(pc.path))
    pc.path = pc.path.substr(0, pc.path.size() - 1) + "_.";
  usedPaths_.insert(pc.path);

  for (size_t i = 0; i < def->params.size(); ++i) {
    const ast::DefParam &p = def->params[i];
    const ast::Expr &a = *c.args[i];
    if (p.kind == ast::ParamKind::Dim) {
      pc.argTensors.push_back(-1);
      pc.argDims.push_back(evalDimExpr(cx.scope, a));
      continue;
    }
    pc.argDims.push_back(0);
    int t = -1;
    if (auto *n = a.as<ast::NameExpr>())
      t = lookupTensor(cx.scope, n->name);
    // A call as an argument continues this statement's call numbering
    // (y = dense(dense(x, H), O) gives y.W, then y.2.W).
    if (auto *inner = a.as<ast::CallExpr>())
      if (const ast::FuncDef *d = findDef(inner->callee); d && !d->exprBody)
        t = queueCall(cx, *inner, d, {});
    if (t < 0) {
      if (auto *n = a.as<ast::NameExpr>()) {
        bool found;
        lookupDim(cx.scope, n->name, n->loc, found);
        double cv;
        if (found || lookupConst(cx.scope, n->name, n->loc, cv))
          fatalIn(cx.scope, a.loc,
                  "argument '" + p.name + "' of '" + def->name + "' is a tensor, but '" +
                      n->name + "' is a " + (found ? "dim" : "const"));
      }
      t = materializeArg(cx, a, pc.path + p.name);
    }
    pc.argTensors.push_back(t);
  }
  int nret = 0;
  for (auto &s : def->body)
    if (auto *r = s->as<ast::ReturnStmt>())
      nret = static_cast<int>(r->items.size());
  if (targets.empty()) {
    if (nret != 1)
      fatalIn(cx.scope, c.loc,
              "'" + def->name + "' returns " + std::to_string(nret) +
                  " values; use it as the whole right side: a, b = " + def->name + "(...)");
    std::string stem = pc.path.substr(0, pc.path.size() - 1);
    int t = newTensor(uniqueTensorName(defDeclaresState(def) ? stem + ".out" : stem), c.loc,
                      Role::Equation);
    pc.results = {t};
  } else {
    if (static_cast<int>(targets.size()) != nret)
      fatalIn(cx.scope, c.loc,
              "'" + def->name + "' returns " + std::to_string(nret) + " value" +
                  (nret == 1 ? "" : "s") + ", but " + std::to_string(targets.size()) +
                  (targets.size() == 1 ? " name receives it" : " names receive them"));
    pc.results = targets;
  }
  calls_.push_back(pc);
  return pc.results[0];
}

void SemaImpl::instantiate(PendingCall &pc) {
  const ast::FuncDef *def = pc.def;
  Scope s;
  s.prefix = pc.path;
  s.def = def;
  s.callStack = scopes_[pc.scope].callStack;
  s.callStack.push_back({pc.call->loc, "in this call of '" + def->name + "'"});
  auto bindDim = [&](const std::string &name, int64_t v, SourceLoc at) {
    auto it = s.dims.find(name);
    if (it != s.dims.end() && it->second != v) {
      errorIn(scopes_[pc.scope].callStack, at,
              "arguments of '" + def->name + "' disagree on size '" + name + "': " +
                  std::to_string(it->second) + " and " + std::to_string(v));
      throw UserError();
    }
    s.dims[name] = v;
  };
  for (size_t i = 0; i < def->params.size(); ++i) {
    const ast::DefParam &p = def->params[i];
    SourceLoc at = pc.call->args[i]->loc;
    if (p.kind == ast::ParamKind::Dim) {
      bindDim(p.name, pc.argDims[i], at);
      continue;
    }
    int t = pc.argTensors[i];
    const Tensor &T = model_->tensors[t];
    s.tensors[p.name] = t;
    if (p.kind == ast::ParamKind::Int && T.role != Role::Equation && !T.isInt)
      fatalIn(pc.scope, at, "argument '" + p.name + "' of '" + def->name + "' must be an int tensor");
    if (p.kind == ast::ParamKind::Tensor || (p.kind == ast::ParamKind::Int && !p.axes.empty())) {
      bool ell = !p.axes.empty() && p.axes[0].name == "...";
      size_t named = p.axes.size() - (ell ? 1 : 0);
      std::vector<int64_t> shape = tensorShape(t);
      if ((!ell && shape.size() != named) || (ell && shape.size() < named))
        fatalIn(pc.scope, at,
                "argument '" + p.name + "' of '" + def->name + "' must have " +
                    (ell ? "at least " : "") + std::to_string(named) + " ax" +
                    (named == 1 ? "is" : "es") + ", but '" + T.name + "' has shape " +
                    shapeStr(shape));
      size_t lead = shape.size() - named;
      if (ell) {
        std::vector<int64_t> e(shape.begin(), shape.begin() + lead);
        if (s.hasEllipsis && s.ellipsis != e)
          fatalIn(pc.scope, at, "arguments of '" + def->name + "' disagree on the axes of '...'");
        s.hasEllipsis = true;
        s.ellipsis = e;
      }
      for (size_t k = 0; k < named; ++k)
        bindDim(p.axes[k + (ell ? 1 : 0)].name, shape[lead + k], at);
    }
  }
  int scope = newScope(std::move(s));
  callDefs_.push_back(pc.defStack);
  GRADC_ASSERT(callDefs_.size() == scopes_.size(), "scope bookkeeping");
  std::vector<int> results = pc.results;
  declareBody(scope, def->body, false, &results);
}

} // namespace gradc::sema
