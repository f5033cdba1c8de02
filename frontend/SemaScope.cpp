//===- frontend/SemaScope.cpp - Statements, scopes and def calls ----------===//
//
// A model body and every inlined def call is a Scope. declareBody walks the
// statements of one scope in three sweeps, so that a name may be used before
// the line that defines it: (1) dims and consts are registered (evaluated on
// demand), (2) tensors are declared and every equation's left side is
// registered, (3) right sides are resolved. Def calls whose arguments'
// shapes are not known yet are queued (PendingCall) and instantiated later
// by the driver (Sema.cpp).
//
//===----------------------------------------------------------------------===//
#include "frontend/SemaImpl.h"
#include "ir/OptimizerArgs.h"

#include "support/Assert.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

namespace gradc::sema {

static constexpr int64_t kMaxDim = 2147483647;

SemaImpl::SemaImpl(const std::vector<const ast::Module *> &modules, SourceManager &sm,
                   DiagnosticEngine &diags, const SemaOptions &opts)
    : modules_(modules), sm_(sm), diags_(diags), opts_(opts) {}

int SemaImpl::newScope(Scope s) {
  scopes_.push_back(std::move(s));
  return static_cast<int>(scopes_.size()) - 1;
}

void SemaImpl::errorIn(const std::vector<std::pair<SourceLoc, std::string>> &stack,
                       SourceLoc loc, const std::string &msg) {
  for (auto &c : stack)
    diags_.pushContext(c.first, c.second);
  diags_.error(loc, msg);
  for (size_t i = 0; i < stack.size(); ++i)
    diags_.popContext();
}

void SemaImpl::warnIn(const std::vector<std::pair<SourceLoc, std::string>> &stack,
                      SourceLoc loc, const std::string &msg) {
  for (auto &c : stack)
    diags_.pushContext(c.first, c.second);
  diags_.warning(loc, msg);
  for (size_t i = 0; i < stack.size(); ++i)
    diags_.popContext();
}

void SemaImpl::fatalIn(int scope, SourceLoc loc, const std::string &msg) {
  errorIn(scopes_[scope].callStack, loc, msg);
  throw UserError();
}

const ast::FuncDef *SemaImpl::findDef(const std::string &name) const {
  for (const ast::Module *m : modules_)
    for (auto &d : m->defs)
      if (d->name == name)
        return d.get();
  return nullptr;
}

/// True when the def (or a def it calls) declares params or state: such
/// calls get numbered names (z2.W, z2.2.W).
bool SemaImpl::defDeclaresState(const ast::FuncDef *def) {
  std::set<const ast::FuncDef *> seen;
  std::function<bool(const ast::FuncDef *)> visit;
  std::function<bool(const ast::Expr *)> visitExpr = [&](const ast::Expr *e) -> bool {
    if (!e)
      return false;
    if (auto *c = e->as<ast::CallExpr>()) {
      if (const ast::FuncDef *d = findDef(c->callee))
        if (visit(d))
          return true;
      for (auto &a : c->args)
        if (visitExpr(a.get()))
          return true;
    } else if (auto *b = e->as<ast::BinderExpr>()) {
      return visitExpr(b->body.get());
    } else if (auto *u = e->as<ast::UnaryExpr>()) {
      return visitExpr(u->operand.get());
    } else if (auto *bin = e->as<ast::BinaryExpr>()) {
      return visitExpr(bin->lhs.get()) || visitExpr(bin->rhs.get());
    }
    return false;
  };
  visit = [&](const ast::FuncDef *d) -> bool {
    if (!seen.insert(d).second)
      return false;
    for (auto &s : d->body) {
      if (auto *t = s->as<ast::TensorStmt>())
        if (t->role == ast::TensorRole::Param || t->role == ast::TensorRole::State)
          return true;
      if (auto *eq = s->as<ast::EquationStmt>())
        if (visitExpr(eq->rhs.get()))
          return true;
      if (auto *r = s->as<ast::ReturnStmt>())
        for (auto &it : r->items)
          if (visitExpr(it.value.get()))
            return true;
    }
    return false;
  };
  return visit(def);
}

int SemaImpl::newTensor(const std::string &name, SourceLoc loc, Role role) {
  Tensor t;
  t.name = name;
  t.loc = loc;
  t.role = role;
  model_->tensors.push_back(std::move(t));
  return static_cast<int>(model_->tensors.size()) - 1;
}

int SemaImpl::lookupTensor(int scope, const std::string &name) const {
  auto it = scopes_[scope].tensors.find(name);
  return it == scopes_[scope].tensors.end() ? -1 : it->second;
}

//===-- Declarations -----------------------------------------------------------===//

/// Parses an initializer call: zeros() ones() constant(v) normal(std)
/// uniform(lo, hi) he() lecun() xavier(), the last three with fan_in = N.
static ir::InitSpec parseInit(SemaImpl &S, int scope, const ast::Expr &e, ast::TensorRole role,
                              bool &fanGiven) {
  auto *c = e.as<ast::CallExpr>();
  if (!c)
    S.fatalIn(scope, e.loc, "expected an initializer such as zeros(), normal(0.1) or he()");
  struct Row {
    const char *name;
    ir::InitSpec::Kind kind;
    int nargs;
  };
  static const Row rows[] = {{"zeros", ir::InitSpec::Zeros, 0},   {"ones", ir::InitSpec::Ones, 0},
                             {"constant", ir::InitSpec::Constant, 1},
                             {"normal", ir::InitSpec::Normal, 1},
                             {"uniform", ir::InitSpec::Uniform, 2}, {"he", ir::InitSpec::He, 0},
                             {"lecun", ir::InitSpec::Lecun, 0},    {"xavier", ir::InitSpec::Xavier, 0}};
  const Row *row = nullptr;
  for (auto &r : rows)
    if (c->callee == r.name)
      row = &r;
  if (!row)
    S.fatalIn(scope, c->calleeLoc,
              "unknown initializer '" + c->callee +
                  "'; use zeros, ones, constant, normal, uniform, he, lecun or xavier");
  if (role == ast::TensorRole::Noise && row->kind != ir::InitSpec::Normal &&
      row->kind != ir::InitSpec::Uniform)
    S.fatalIn(scope, c->calleeLoc, "noise is drawn from normal(std) or uniform(lo, hi)");
  if (static_cast<int>(c->args.size()) != row->nargs)
    S.fatalIn(scope, c->loc,
              "'" + c->callee + "' takes " + std::to_string(row->nargs) + " argument" +
                  (row->nargs == 1 ? "" : "s") + ", not " + std::to_string(c->args.size()));
  ir::InitSpec spec;
  spec.kind = row->kind;
  if (row->nargs >= 1)
    spec.a = S.evalConstExpr(scope, *c->args[0]);
  if (row->nargs >= 2)
    spec.b = S.evalConstExpr(scope, *c->args[1]);
  if (spec.kind == ir::InitSpec::Normal && spec.a < 0)
    S.fatalIn(scope, c->args[0]->loc, "normal(std) needs std >= 0");
  if (spec.kind == ir::InitSpec::Uniform && !(spec.a < spec.b))
    S.fatalIn(scope, c->args[0]->loc, "uniform(lo, hi) needs lo < hi");
  fanGiven = false;
  for (auto &na : c->namedArgs) {
    bool fanKind = spec.kind == ir::InitSpec::He || spec.kind == ir::InitSpec::Lecun ||
                   spec.kind == ir::InitSpec::Xavier;
    if (fanKind && (na.name == "fan_in" || (na.name == "fan_out" && spec.kind == ir::InitSpec::Xavier))) {
      int64_t v = S.evalDimExpr(scope, *na.value);
      if (v < 1)
        S.fatalIn(scope, na.loc, na.name + " must be at least 1");
      (na.name == "fan_in" ? spec.fanIn : spec.fanOut) = v;
      fanGiven = fanGiven || na.name == "fan_in";
      continue;
    }
    S.fatalIn(scope, na.loc, "'" + c->callee + "' has no argument named '" + na.name + "'");
  }
  return spec;
}

/// Declares an input, param, noise or state tensor.
static void declareTensor(SemaImpl &S, int scope, const ast::TensorStmt &ts) {
  Role role = ts.role == ast::TensorRole::Input   ? Role::Input
              : ts.role == ast::TensorRole::Param ? Role::Param
              : ts.role == ast::TensorRole::Noise ? Role::Noise
                                                  : Role::State;
  std::string full = S.scopes_[scope].prefix + ts.name;
  if (S.lookupTensor(scope, ts.name) >= 0) {
    int prev = S.lookupTensor(scope, ts.name);
    S.errorIn(S.scopes_[scope].callStack, ts.nameLoc, "redefinition of '" + ts.name + "'");
    S.diags_.note(S.model_->tensors[prev].loc, "'" + ts.name + "' was first defined here");
    throw UserError();
  }
  bool found;
  S.lookupDim(scope, ts.name, ts.nameLoc, found);
  if (found)
    S.fatalIn(scope, ts.nameLoc, "'" + ts.name + "' is already a dim");
  if (S.findDef(ts.name))
    S.fatalIn(scope, ts.nameLoc, "'" + ts.name + "' is already a function (tensors and "
                                                 "functions share one namespace)");
  int t = S.newTensor(full, ts.nameLoc, role);
  S.scopes_[scope].tensors[ts.name] = t;
  std::vector<int64_t> shape;
  int64_t elems = 1;
  for (auto &d : ts.shape) {
    if (d->as<ast::EllipsisExpr>()) {
      if (!S.scopes_[scope].hasEllipsis)
        S.fatalIn(scope, d->loc, "'...' in a shape is only allowed in a def with an x[..., I] argument");
      for (int64_t v : S.scopes_[scope].ellipsis)
        shape.push_back(v);
      continue;
    }
    int64_t v = S.evalDimExpr(scope, *d);
    if (v < 1 || v > kMaxDim)
      S.fatalIn(scope, d->loc, "size " + std::to_string(v) + " is out of range 1 .. " +
                                   std::to_string(kMaxDim));
    shape.push_back(v);
  }
  for (int64_t v : shape)
    if (__builtin_mul_overflow(elems, v, &elems) || elems > (int64_t(1) << 31))
      S.fatalIn(scope, ts.nameLoc,
                "tensor '" + ts.name + "' is too large (over 2^31 elements)");
  Tensor &T = S.model_->tensors[t];
  for (auto &c : S.scopes_[scope].callStack)
    T.orderKey.push_back(c.first);
  T.orderKey.push_back(ts.nameLoc);
  T.shape = shape;
  T.rank = static_cast<int>(shape.size());
  T.isInt = ts.isInt;
  if (ts.isInt && role != Role::Input)
    S.fatalIn(scope, ts.nameLoc, "only inputs may be int; params, noise and state are f32");
  if (role == Role::Input) {
    if (ts.init)
      S.fatalIn(scope, ts.init->loc, "an input is fed on every call and takes no initializer");
    return;
  }
  if (!ts.init)
    S.fatalIn(scope, ts.nameLoc,
              std::string("'") + ts.name + "' needs an initializer, e.g. " +
                  (role == Role::Noise ? "= normal(1)" : role == Role::Param ? "= he()" : "= zeros()"));
  bool fanGiven = false;
  ir::InitSpec spec = parseInit(S, scope, *ts.init, ts.role, fanGiven);
  Tensor &T2 = S.model_->tensors[t];
  T2.init = spec;
  T2.initFanGiven = fanGiven;
  T2.initLoc = ts.init->loc;
}

/// True when a left-side subscript is a constant (a boundary position):
/// numbers and dims combined with + - * /.
bool SemaImpl::isConstantSubscript(int scope, const ast::Expr &e) {
  try {
    evalDimExprQuiet(scope, e);
    return true;
  } catch (const NotConstant &) {
    return false;
  }
}

void SemaImpl::declareBody(int scope, const std::vector<ast::StmtPtr> &body, bool isModel,
                           const std::vector<int> *returnTargets) {
  // Sweep 1: dims and consts, evaluated on demand.
  std::map<std::string, SourceLoc> names;
  auto claim = [&](const std::string &n, SourceLoc loc) {
    auto [it, fresh] = names.emplace(n, loc);
    if (!fresh) {
      errorIn(scopes_[scope].callStack, loc, "redefinition of '" + n + "'");
      diags_.note(it->second, "'" + n + "' was first defined here");
      throw UserError();
    }
    if (scopes_[scope].dims.count(n) || scopes_[scope].tensors.count(n))
      fatalIn(scope, loc, "redefinition of '" + n + "' (it names an argument of the def)");
  };
  for (auto &s : body) {
    if (auto *d = s->as<ast::DimStmt>())
      for (auto &dd : d->dims) {
        claim(dd.name, dd.loc);
        scopes_[scope].pendingDims[dd.name] = &dd;
      }
    if (auto *c = s->as<ast::ConstStmt>()) {
      claim(c->name, c->nameLoc);
      scopes_[scope].pendingConsts[c->name] = c;
    }
  }
  for (auto &s : body) {
    if (auto *d = s->as<ast::DimStmt>())
      for (auto &dd : d->dims) {
        bool found;
        lookupDim(scope, dd.name, dd.loc, found);
      }
    if (auto *c = s->as<ast::ConstStmt>()) {
      double v;
      lookupConst(scope, c->name, c->nameLoc, v);
    }
  }
  // Sweep 2: tensor declarations and the left sides of equations.
  for (auto &s : body)
    if (auto *t = s->as<ast::TensorStmt>())
      declareTensor(*this, scope, *t);
  auto declareLhs = [&](const std::string &name, SourceLoc loc) {
    int prev = lookupTensor(scope, name);
    if (prev >= 0) {
      errorIn(scopes_[scope].callStack, loc, "redefinition of '" + name + "'");
      diags_.note(model_->tensors[prev].loc, "'" + name + "' was first defined here");
      throw UserError();
    }
    if (scopes_[scope].dims.count(name) || scopes_[scope].consts.count(name))
      fatalIn(scope, loc, "'" + name + "' is already a " +
                              (scopes_[scope].dims.count(name) ? "dim" : "const"));
    if (findDef(name))
      fatalIn(scope, loc, "'" + name + "' is already a function (tensors and functions share "
                                       "one namespace)");
    int t = newTensor(scopes_[scope].prefix + name, loc, Role::Equation);
    scopes_[scope].tensors[name] = t;
  };
  for (auto &s : body) {
    if (auto *eq = s->as<ast::EquationStmt>()) {
      for (auto &l : eq->lhs) {
        bool boundary = false;
        for (auto &sub : l.subscripts)
          boundary = boundary || isConstantSubscript(scope, *sub);
        if (!boundary)
          declareLhs(l.name, l.loc);
      }
    } else if (auto *m = s->as<ast::MetricStmt>()) {
      if (!isModel)
        fatalIn(scope, m->loc, "'metric' belongs in a model, not in a def");
      declareLhs(m->name, m->nameLoc);
    }
  }
  // Sweep 3: right sides.
  for (auto &s : body) {
    scopes_[scope].callCounter = 0;
    switch (s->kind) {
    case ast::StmtKind::Equation: {
      auto *eq = s->as<ast::EquationStmt>();
      std::vector<int> targets;
      for (auto &l : eq->lhs) {
        int t = lookupTensor(scope, l.name);
        if (t < 0)
          fatalIn(scope, l.loc,
                  "boundary value of '" + l.name + "', which no equation defines");
        targets.push_back(t);
      }
      std::vector<const ast::LhsTarget *> lhs;
      for (auto &l : eq->lhs)
        lhs.push_back(&l);
      resolveEquation(scope, lhs, *eq->rhs, eq->fors, eq->loc, false, targets);
      break;
    }
    case ast::StmtKind::Metric: {
      auto *m = s->as<ast::MetricStmt>();
      int t = lookupTensor(scope, m->name);
      ast::LhsTarget lhs;
      lhs.name = m->name;
      lhs.loc = m->nameLoc;
      resolveEquation(scope, {&lhs}, *m->rhs, {}, m->loc, false, {t});
      model_->metrics.push_back({m->name, t, m->nameLoc});
      break;
    }
    case ast::StmtKind::Update: {
      auto *u = s->as<ast::UpdateStmt>();
      int st = lookupTensor(scope, u->target.name);
      if (st < 0)
        fatalIn(scope, u->target.loc, "unknown state '" + u->target.name + "'");
      if (model_->tensors[st].role != Role::State)
        fatalIn(scope, u->target.loc,
                "'" + u->target.name + "' is not declared with 'state'; only state is updated");
      int hidden = newTensor(model_->tensors[st].name + ".next", u->loc, Role::Equation);
      model_->tensors[hidden].hidden = true;
      resolveEquation(scope, {&u->target}, *u->rhs, u->fors, u->loc, true, {hidden});
      // The new value has the state's shape: its axes are fixed like a
      // declaration's, so the left side's indices take their ranges from it.
      model_->tensors[hidden].shape = model_->tensors[st].shape;
      model_->updates.push_back({st, model_->tensors[hidden].mainEq});
      break;
    }
    case ast::StmtKind::Output: {
      if (!isModel)
        fatalIn(scope, s->loc, "'output' belongs in a model, not in a def");
      for (auto &n : s->as<ast::OutputStmt>()->names) {
        int t = lookupTensor(scope, n.name);
        if (t < 0)
          fatalIn(scope, n.loc, "unknown name '" + n.name + "' in output");
        for (auto &prev : model_->outputs)
          if (prev.name == n.name) {
            diags_.error(n.loc, "'" + n.name + "' is already an output");
            diags_.note(prev.loc, "first listed here");
            throw UserError();
          }
        model_->outputs.push_back({n.name, t, n.loc});
      }
      break;
    }
    case ast::StmtKind::Minimize: {
      if (!isModel)
        fatalIn(scope, s->loc, "'minimize' belongs in a model, not in a def");
      auto &n = s->as<ast::MinimizeStmt>()->target;
      int t = lookupTensor(scope, n.name);
      if (t < 0)
        fatalIn(scope, n.loc, "unknown name '" + n.name + "' in minimize");
      if (model_->loss)
        fatalIn(scope, s->loc, "a model minimizes one scalar; sum the loss heads explicitly");
      model_->loss = NamedRef{n.name, t, n.loc};
      break;
    }
    case ast::StmtKind::Optimizer: {
      auto *o = s->as<ast::OptimizerStmt>();
      model_->optimizer.name = o->call->callee;
      model_->optimizer.loc = o->loc;
      const std::vector<std::string> *takes = ir::optimizerArguments(o->call->callee);
      if (!takes)
        fatalIn(scope, o->call->calleeLoc,
                "unknown optimizer '" + o->call->callee +
                    "'; use sgd, momentum, rmsprop, adam or adamw");
      if (o->call->args.size() > takes->size())
        fatalIn(scope, o->call->loc, "too many arguments to '" + o->call->callee + "'");
      for (size_t i = 0; i < o->call->args.size(); ++i)
        model_->optimizer.args[(*takes)[i]] = evalConstExpr(scope, *o->call->args[i]);
      for (auto &na : o->call->namedArgs) {
        if (std::find(takes->begin(), takes->end(), na.name) == takes->end())
          fatalIn(scope, na.loc, "'" + o->call->callee + "' has no parameter '" + na.name + "'");
        model_->optimizer.args[na.name] = evalConstExpr(scope, *na.value);
      }
      if (!model_->optimizer.args.count("lr"))
        fatalIn(scope, o->call->loc, "'" + o->call->callee + "' needs a learning rate: " +
                                         o->call->callee + "(lr = 1e-3)");
      for (auto &[k, v] : model_->optimizer.args)
        if (const char *why = ir::optimizerArgumentRange(k, v))
          fatalIn(scope, o->call->loc,
                  "optimizer argument " + k + " = " + std::to_string(v) + " is out of range (" +
                      why + ")");
      break;
    }
    case ast::StmtKind::ClipNorm: {
      double v = evalConstExpr(scope, *s->as<ast::ClipNormStmt>()->value);
      if (!(v > 0))
        fatalIn(scope, s->loc, "clip_norm must be positive");
      model_->clipNorm = v;
      break;
    }
    case ast::StmtKind::Return: {
      if (isModel || !returnTargets)
        fatalIn(scope, s->loc, "'return' is only allowed in a def");
      auto *r = s->as<ast::ReturnStmt>();
      if (r->items.size() != returnTargets->size())
        fatalIn(scope, s->loc,
                "this def returns " + std::to_string(r->items.size()) + " value" +
                    (r->items.size() == 1 ? "" : "s") + " but the call expects " +
                    std::to_string(returnTargets->size()));
      for (size_t i = 0; i < r->items.size(); ++i) {
        // The `-> [axes]` list plays the part of the left side's subscripts.
        ast::LhsTarget lhs;
        lhs.name = model_->tensors[(*returnTargets)[i]].name;
        lhs.loc = r->items[i].value->loc;
        lhs.hasSubscripts = r->items[i].hasAxes;
        for (auto &a : r->items[i].axes) {
          if (auto *n = a->as<ast::NameExpr>())
            lhs.subscripts.push_back(std::make_unique<ast::NameExpr>(n->loc, n->name));
          else
            lhs.subscripts.push_back(std::make_unique<ast::EllipsisExpr>(a->loc));
        }
        returnNeedsAxes_ = !r->items[i].hasAxes;
        resolveEquation(scope, {&lhs}, *r->items[i].value, {}, r->items[i].value->loc, false,
                        {(*returnTargets)[i]});
        returnNeedsAxes_ = false;
      }
      break;
    }
    default:
      break;
    }
  }
  if (!isModel && returnTargets && !returnTargets->empty()) {
    bool hasReturn = false;
    for (auto &s : body)
      hasReturn = hasReturn || s->kind == ast::StmtKind::Return;
    if (!hasReturn)
      fatalIn(scope, scopes_[scope].def->loc,
              "def '" + scopes_[scope].def->name + "' has no return statement");
  }
}

} // namespace gradc::sema
