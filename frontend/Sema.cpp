//===- frontend/Sema.cpp - The semantic analysis driver -------------------===//
//
// Algorithm:
//  1. Declare the model body (SemaScope.cpp): dims with -D overrides,
//     consts, tensors, equations; def calls are queued.
//  2. Rounds: solve ranges over the equations known so far; expand every
//     whole-tensor equation whose operands' shapes are known; instantiate
//     every queued call whose arguments' shapes are known. Repeat until a
//     round makes no progress. Whatever is still waiting is an error.
//  3. Fix shapes and ranges, make implicit sums explicit, type int/f32,
//     find the recurrences and schedule, infer parameter fan-in, warn about
//     unused parameters.
//
//===----------------------------------------------------------------------===//
#include "frontend/SemaImpl.h"

#include "support/Assert.h"

#include <cstdio>
#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include <unistd.h>

namespace gradc::sema {

namespace {

void collectRecAxes(const std::vector<Unit> &units, std::map<int, std::set<int>> &out) {
  for (auto &u : units)
    if (u.group) {
      for (size_t i = 0; i < u.group->tensors.size(); ++i)
        out[u.group->tensors[i]].insert(u.group->axis[i]);
      collectRecAxes(u.group->body, out);
    }
}
} // namespace

std::unique_ptr<Model> SemaImpl::run(const ast::ModelDef &m) {
  astModel_ = &m;
  model_ = std::make_unique<Model>();
  model_->name = m.name;
  model_->loc = m.loc;
  newScope(Scope{});
  callDefs_.push_back({});
  checkDefs();
  declareBody(0, m.body, true, nullptr);
  for (auto &[name, v] : opts_.dimOverrides)
    if (!usedOverrides_.count(name))
      throw UsageError("-D " + name + ": model '" + m.name + "' has no dim named '" + name + "'");

  for (int round = 0;; ++round) {
    GRADC_ASSERT(round < 100000, "shape inference does not terminate");
    nodes_.clear();
    for (auto &T : model_->tensors)
      T.axisNodes.clear();
    std::vector<bool> waiting(model_->equations.size(), false);
    for (auto &w : wholes_)
      if (!w.done)
        waiting[w.eq] = true;
    eqInSolver_.assign(model_->equations.size(), false);
    for (int e : definitionOrder())
      if (!waiting[e]) {
        addEquationToSolver(model_->equations[e]);
        eqInSolver_[e] = true;
      }
    propagateRanges();
    bool progress = false;
    for (size_t i = 0; i < wholes_.size(); ++i) {
      if (wholes_[i].done)
        continue;
      bool ready = true;
      forEachRead(*model_->equations[wholes_[i].eq].rhs, [&](const RExpr &r) {
        if (r.whole && !tensorShapeKnown(r.tensor))
          ready = false;
      });
      if (ready) {
        expandWhole(model_->equations[wholes_[i].eq]);
        wholes_[i].done = true;
        progress = true;
      }
    }
    for (size_t i = 0; i < calls_.size(); ++i) {
      if (calls_[i].done)
        continue;
      bool ready = true;
      for (int t : calls_[i].argTensors)
        if (t >= 0 && !tensorShapeKnown(t))
          ready = false;
      if (!ready)
        continue;
      calls_[i].done = true;
      PendingCall pc = calls_[i]; // instantiate() may grow calls_
      instantiate(pc);
      progress = true;
    }
    if (!progress)
      break;
  }
  for (auto &w : wholes_)
    if (!w.done) {
      const Equation &eq = model_->equations[w.eq];
      std::string what = model_->tensors[eq.tensor].name;
      forEachRead(*eq.rhs, [&](const RExpr &r) {
        if (r.whole && !tensorShapeKnown(r.tensor))
          what = model_->tensors[r.tensor].name;
      });
      errorIn(eqCallStack_[w.eq], eq.loc,
              "cannot infer the shape of '" + what + "' (it is used as a whole tensor before "
              "anything fixes its size)");
      throw UserError();
    }
  for (auto &pc : calls_)
    if (!pc.done) {
      std::string which;
      for (size_t i = 0; i < pc.argTensors.size(); ++i)
        if (pc.argTensors[i] >= 0 && !tensorShapeKnown(pc.argTensors[i]))
          which = model_->tensors[pc.argTensors[i]].name;
      errorIn(scopes_[pc.scope].callStack, pc.call->loc,
              "cannot infer the shape of '" + which + "', an argument of '" + pc.def->name +
                  "' (a call is inlined once its arguments' shapes are known)");
      throw UserError();
    }
  finishShapes();

  for (auto &eq : model_->equations)
    insertImplicitSums(eq);
  for (bool changed = true; changed;) {
    changed = false;
    for (auto &eq : model_->equations)
      changed = typeEquation(eq, false) || changed;
  }
  for (auto &eq : model_->equations)
    typeEquation(eq, true);
  analyzeRecurrences();
  inferFans();

  if (model_->loss) {
    const Tensor &L = model_->tensors[model_->loss->tensor];
    if (!L.shape.empty() || L.isInt)
      diags_.fatal(model_->loss->loc, "minimize needs an f32 scalar, but '" + L.name +
                                          "' has shape " + shapeStr(L.shape) +
                                          "; reduce it, e.g. mean(b: ...)");
  }
  for (auto &mt : model_->metrics) {
    const Tensor &T = model_->tensors[mt.tensor];
    if (!T.shape.empty())
      diags_.fatal(mt.loc, "a metric is a scalar, but '" + T.name + "' has shape " +
                               shapeStr(T.shape));
  }
  for (auto &o : model_->outputs)
    model_->tensors[o.tensor].isOutput = true;
  checkMemory();
  return std::move(model_);
}

/// Equations with the ones defining a tensor before the ones reading it
/// (depth-first post-order), so that a size conflict is reported where a
/// tensor is used, not inside the def that computes it.
std::vector<int> SemaImpl::definitionOrder() {
  size_t n = model_->equations.size();
  std::vector<int> order, state(n, 0);
  std::vector<std::pair<int, std::vector<int>>> stack;
  auto depsOf = [&](int e) {
    std::vector<int> deps;
    forEachRead(*model_->equations[e].rhs, [&](const RExpr &r) {
      const Tensor &T = model_->tensors[r.tensor];
      if (T.mainEq >= 0)
        deps.push_back(T.mainEq);
      deps.insert(deps.end(), T.boundaryEqs.begin(), T.boundaryEqs.end());
    });
    std::reverse(deps.begin(), deps.end());
    return deps;
  };
  for (size_t root = 0; root < n; ++root) {
    if (state[root])
      continue;
    state[root] = 1;
    stack.push_back({static_cast<int>(root), depsOf(static_cast<int>(root))});
    while (!stack.empty()) {
      auto &[e, deps] = stack.back();
      if (deps.empty()) {
        order.push_back(e);
        stack.pop_back();
        continue;
      }
      int d = deps.back();
      deps.pop_back();
      if (!state[d]) {
        state[d] = 1;
        stack.push_back({d, depsOf(d)});
      }
    }
  }
  return order;
}

void SemaImpl::checkDefs() {
  // Redefinitions within one file. A def of the main file may shadow one of
  // an import (a user's own `dense` next to `import "std"`): the main file's
  // is found first.
  for (const ast::Module *mod : modules_) {
    std::map<std::string, SourceLoc> seen;
    auto claim = [&](const std::string &name, SourceLoc loc, const char *what) {
      auto [it, fresh] = seen.emplace(name, loc);
      if (!fresh) {
        diags_.error(loc, std::string("redefinition of ") + what + " '" + name + "'");
        diags_.note(it->second, "'" + name + "' was first defined here");
        throw UserError();
      }
    };
    for (auto &d : mod->defs)
      claim(d->name, d->loc, "function");
    std::map<std::string, SourceLoc> models;
    for (auto &m : mod->models) {
      auto [it, fresh] = models.emplace(m->name, m->loc);
      if (!fresh) {
        diags_.error(m->loc, "redefinition of model '" + m->name + "'");
        diags_.note(it->second, "'" + m->name + "' was first defined here");
        throw UserError();
      }
    }
  }
  // An elementwise def's body sees only its parameters: check its names now,
  // so an error is found even in a def no model calls.
  static const std::set<std::string> builtins = {
      "exp",  "log",  "sqrt",  "rsqrt", "abs",  "tanh", "sigmoid", "relu", "softplus",
      "sin",  "cos",  "stop_gradient", "leaky_relu", "max", "min", "where", "clip", "count",
      "sum",  "mean", "logsumexp", "argmax", "softmax", "log_softmax"};
  for (const ast::Module *mod : modules_)
    for (auto &d : mod->defs) {
      if (!d->exprBody)
        continue;
      std::set<std::string> params;
      for (auto &p : d->params)
        params.insert(p.name);
      std::function<void(const ast::Expr &, std::set<std::string> &)> visit =
          [&](const ast::Expr &e, std::set<std::string> &bound) {
            if (auto *n = e.as<ast::NameExpr>()) {
              if (!params.count(n->name) && !bound.count(n->name) && n->name != "training")
                diags_.fatal(n->loc, "unknown name '" + n->name + "' in the body of '" +
                                         d->name + "' (an elementwise def sees only its "
                                         "parameters)");
            } else if (auto *c = e.as<ast::CallExpr>()) {
              if (!builtins.count(c->callee) && !findDef(c->callee))
                diags_.fatal(c->calleeLoc, "unknown function '" + c->callee + "'");
              for (auto &a : c->args)
                if (!a->as<ast::EllipsisExpr>())
                  visit(*a, bound);
            } else if (auto *b = e.as<ast::BinderExpr>()) {
              std::set<std::string> inner = bound;
              for (auto &v : b->vars)
                inner.insert(v.name);
              visit(*b->body, inner);
            } else if (auto *u = e.as<ast::UnaryExpr>()) {
              visit(*u->operand, bound);
            } else if (auto *bin = e.as<ast::BinaryExpr>()) {
              visit(*bin->lhs, bound);
              visit(*bin->rhs, bound);
            } else if (auto *s = e.as<ast::SubscriptExpr>()) {
              diags_.fatal(s->loc, "'" + d->name + "' is elementwise: its body cannot read "
                                   "tensors with subscripts");
            }
          };
      std::set<std::string> none;
      visit(*d->exprBody, none);
    }
}

/// Every tensor of the model held at once, as f32, must fit in physical
/// memory: a model that cannot run here is an error at compile time.
void SemaImpl::checkMemory() {
  long double bytes = 0;
  for (const Tensor &T : model_->tensors) {
    long double n = 4;
    for (size_t a = 0; a < T.shape.size(); ++a)
      n *= T.shape[a] + (T.extBefore.empty() ? 0 : T.extBefore[a] + T.extAfter[a]);
    bytes += n;
  }
  long pages = sysconf(_SC_PHYS_PAGES), pageSize = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || pageSize <= 0)
    return;
  long double physical = static_cast<long double>(pages) * pageSize;
  if (bytes > physical) {
    char msg[200];
    std::snprintf(msg, sizeof msg,
                  "model '%s' needs %.1f GiB for its tensors, more than this machine's %.1f GiB "
                  "of memory",
                  model_->name.c_str(), static_cast<double>(bytes / (1 << 30)),
                  static_cast<double>(physical / (1 << 30)));
    diags_.fatal(model_->loc, msg);
  }
}

/// fan_in: the product of the sizes of the axes summed in the parameter's
/// first use; fan_out: the product of the others, except recurrence axes.
void SemaImpl::inferFans() {
  std::map<int, std::set<int>> recAxes;
  collectRecAxes(model_->schedule, recAxes);
  std::set<int> seen;
  for (size_t e = 0; e < model_->equations.size(); ++e) {
    const Equation &eq = model_->equations[e];
    std::set<int> recVars;
    if (auto it = recAxes.find(eq.tensor); it != recAxes.end() && !eq.isBoundary)
      for (int a : it->second)
        if (a < static_cast<int>(eq.lhs.size()) && eq.lhs[a].var >= 0)
          recVars.insert(eq.lhs[a].var);
    std::vector<int> bound;
    std::function<void(const RExpr &)> visit = [&](const RExpr &r) {
      if (r.kind == RKind::Read && !seen.count(r.tensor)) {
        Tensor &P = model_->tensors[r.tensor];
        if (P.role == Role::Param) {
          seen.insert(r.tensor);
          int64_t fanIn = 1, fanOut = 1;
          for (size_t a = 0; a < r.subs.size(); ++a) {
            bool summed = false, rec = false;
            for (auto &[v, c] : r.subs[a].terms) {
              summed = summed || std::count(bound.begin(), bound.end(), v);
              rec = rec || recVars.count(v);
            }
            if (summed)
              fanIn *= P.shape[a];
            else if (!rec)
              fanOut *= P.shape[a];
          }
          if (!P.initFanGiven)
            P.init.fanIn = fanIn;
          if (P.init.fanOut == 0)
            P.init.fanOut = fanOut;
        }
      }
      bool binds = r.kind == RKind::Sum || r.kind == RKind::Reduce;
      if (binds)
        bound.insert(bound.end(), r.vars.begin(), r.vars.end());
      for (auto &k : r.kids)
        visit(*k);
      if (binds)
        bound.resize(bound.size() - r.vars.size());
    };
    visit(*eq.rhs);
  }
  // Reachability from what the model exposes: outputs, the loss, metrics.
  std::set<int> reached;
  std::vector<int> work;
  auto reach = [&](int t) {
    if (reached.insert(t).second)
      work.push_back(t);
  };
  for (auto &o : model_->outputs)
    reach(o.tensor);
  if (model_->loss)
    reach(model_->loss->tensor);
  for (auto &mt : model_->metrics)
    reach(mt.tensor);
  while (!work.empty()) {
    int t = work.back();
    work.pop_back();
    const Tensor &T = model_->tensors[t];
    std::vector<int> eqs = T.boundaryEqs;
    if (T.mainEq >= 0)
      eqs.push_back(T.mainEq);
    for (int e : eqs)
      forEachRead(*model_->equations[e].rhs, [&](const RExpr &r) { reach(r.tensor); });
  }
  for (size_t t = 0; t < model_->tensors.size(); ++t) {
    Tensor &P = model_->tensors[t];
    if (P.role != Role::Param)
      continue;
    if (!seen.count(static_cast<int>(t))) {
      int64_t rest = 1;
      for (size_t a = 1; a < P.shape.size(); ++a)
        rest *= P.shape[a];
      if (!P.initFanGiven)
        P.init.fanIn = rest;
      if (P.init.fanOut == 0)
        P.init.fanOut = P.shape.empty() ? 1 : P.shape[0];
    }
    if (!reached.count(static_cast<int>(t)))
      diags_.warning(P.loc, "parameter '" + P.name + "' is not used by any output, metric or loss");
  }
}

const ast::ModelDef *selectModel(const std::vector<const ast::Module *> &modules,
                                 const std::string &name) {
  if (modules.empty())
    return nullptr;
  const ast::Module &main = *modules[0];
  if (name.empty())
    return main.models.empty() ? nullptr : main.models[0].get();
  for (auto &m : main.models)
    if (m->name == name)
      return m.get();
  std::string known;
  for (auto &m : main.models)
    known += (known.empty() ? "" : ", ") + m->name;
  throw UsageError("--model " + name + ": no such model" +
                   (known.empty() ? std::string() : " (the file has: " + known + ")"));
}

std::unique_ptr<Model> analyzeModel(const std::vector<const ast::Module *> &modules,
                                    const ast::ModelDef &model, SourceManager &sm,
                                    DiagnosticEngine &diags, const SemaOptions &opts) {
  SemaImpl impl(modules, sm, diags, opts);
  return impl.run(model);
}

} // namespace gradc::sema
