//===- tests/unit/EquationEval.h - Running displayed equations ---*- C++ -*-===//
//
// Two evaluators for test_grad_equations.cpp: Forward computes a model's
// tensors from its resolved equations, as the language defines them
// (padding, boundary values, implicit sums made explicit by sema), without
// the IR; Display runs the equations grad-eqs displays, reading forward
// tensors from a Forward.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/Model.h"
#include "notation/GradEquations.h"
#include "runtime/Interpreter.h"

#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace gradc::testutil {

/// Calls f for every assignment of `vars` (odometer order), each variable
/// ranging over defs[v].size; restores their values afterwards.
template <class Defs, class F>
void overAssignments(const Defs &defs, const std::vector<int> &vars, std::vector<int64_t> &vals,
                     F f) {
  std::vector<int64_t> saved;
  for (int v : vars)
    saved.push_back(vals[v]);
  std::function<void(size_t)> go = [&](size_t k) {
    if (k == vars.size())
      return f();
    for (int64_t i = 0; i < defs[vars[k]].size; ++i) {
      vals[vars[k]] = i;
      go(k + 1);
    }
  };
  go(0);
  for (size_t k = 0; k < vars.size(); ++k)
    vals[vars[k]] = saved[k];
}

using ir::OpKind;
using notation::DExprPtr;
using notation::DIndex;
using notation::DKind;
using notation::GradItem;
using notation::Line;

using Pos = std::vector<int64_t>;

/// Forward tensors as the language defines them, from the resolved model.
class Forward {
public:
  Forward(const sema::Model &m, const runtime::Interpreter &in) : m_(m), in_(in) {}

  double at(int t, const Pos &p) {
    const sema::Tensor &T = m_.tensors[t];
    bool inside = p.size() == T.shape.size();
    for (size_t a = 0; inside && a < p.size(); ++a)
      inside = p[a] >= 0 && p[a] < T.shape[a];
    auto key = std::make_pair(t, p);
    auto it = memo_.find(key);
    if (it != memo_.end())
      return it->second;
    double v = 0; // outside: padding, unless a boundary equation sets it
    if (inside && T.role != sema::Role::Equation) {
      const runtime::DTensor &d = in_.leafValue(T.name);
      std::vector<int64_t> st = d.strides();
      int64_t k = 0;
      for (size_t a = 0; a < p.size(); ++a)
        k += p[a] * st[a];
      v = d.data[k];
    } else if (inside) {
      v = equation(m_.equations[T.mainEq], p);
    } else {
      for (int b : T.boundaryEqs) {
        const sema::Equation &be = m_.equations[b];
        bool match = p.size() == be.lhs.size();
        for (size_t a = 0; match && a < p.size(); ++a)
          match = be.lhs[a].var >= 0 ? p[a] >= 0 && p[a] < be.vars[be.lhs[a].var].size
                                     : p[a] == be.lhs[a].constant;
        if (match)
          v = equation(be, p);
      }
    }
    memo_[key] = v;
    return v;
  }

  int find(const std::string &name) const { return m_.findTensor(name); }

private:
  double equation(const sema::Equation &eq, const Pos &p) {
    std::vector<int64_t> vals(eq.vars.size(), 0);
    for (size_t a = 0; a < eq.lhs.size(); ++a)
      if (eq.lhs[a].var >= 0)
        vals[eq.lhs[a].var] = p[a];
    return eval(eq, *eq.rhs, vals);
  }

  /// Calls f for every assignment of `vars` (odometer order).
  template <class F>
  void over(const sema::Equation &eq, const std::vector<int> &vars, std::vector<int64_t> &vals,
            F f) {
    overAssignments(eq.vars, vars, vals, f);
  }

  double eval(const sema::Equation &eq, const sema::RExpr &e, std::vector<int64_t> &vals) {
    using sema::RKind;
    auto kid = [&](int i) { return eval(eq, *e.kids[i], vals); };
    switch (e.kind) {
    case RKind::Number:
      return e.value;
    case RKind::Training:
      return 1;
    case RKind::Count: {
      double n = 1;
      for (int v : e.vars)
        n *= static_cast<double>(eq.vars[v].size);
      return n;
    }
    case RKind::IndexValue:
      return static_cast<double>(vals[e.var]);
    case RKind::Read: {
      Pos p;
      for (auto &s : e.subs) {
        int64_t x = s.constant;
        for (auto &[v, c] : s.terms)
          x += c * vals[v];
        if (s.indirect)
          x += static_cast<int64_t>(eval(eq, *s.indirect, vals));
        p.push_back(x);
      }
      return at(e.tensor, p);
    }
    case RKind::Unary:
      return unary(e.op, kid(0), e.value);
    case RKind::Binary:
      return binaryOp(e.op, kid(0), kid(1));
    case RKind::Where:
      return kid(0) != 0 ? kid(1) : kid(2);
    case RKind::Sum: {
      double s = 0;
      over(eq, e.vars, vals, [&] { s += kid(0); });
      return s;
    }
    case RKind::Reduce: {
      double best = 0, sum = 0;
      int64_t arg = 0, index = 0;
      bool first = true;
      std::vector<double> xs;
      over(eq, e.vars, vals, [&] {
        double x = kid(0);
        xs.push_back(x);
        bool better = e.op == OpKind::ReduceMin ? x < best : x > best;
        if (first || better) {
          best = x;
          arg = index;
        }
        first = false;
        ++index;
      });
      if (e.op == OpKind::ArgMax)
        return static_cast<double>(arg);
      if (e.op != OpKind::LogSumExp)
        return best;
      for (double x : xs)
        sum += std::exp(x - best);
      return best + std::log(sum);
    }
    case RKind::Normalize: {
      double z = kid(0), m = -INFINITY, sum = 0;
      std::vector<double> xs;
      over(eq, e.vars, vals, [&] { xs.push_back(kid(0)); });
      for (double x : xs)
        m = std::max(m, x);
      for (double x : xs)
        sum += std::exp(x - m);
      return e.op == OpKind::Softmax ? std::exp(z - m) / sum : z - m - std::log(sum);
    }
    }
    return 0;
  }

public:
  static double unary(OpKind k, double x, double exponent) {
    switch (k) {
    case OpKind::Neg:
      return -x;
    case OpKind::Exp:
      return std::exp(x);
    case OpKind::Log:
      return std::log(x);
    case OpKind::Sqrt:
      return std::sqrt(x);
    case OpKind::Rsqrt:
      return 1 / std::sqrt(x);
    case OpKind::Abs:
      return std::fabs(x);
    case OpKind::Tanh:
      return std::tanh(x);
    case OpKind::Sigmoid:
      return 1 / (1 + std::exp(-x));
    case OpKind::Relu:
      return x > 0 ? x : 0;
    case OpKind::Softplus:
      return std::max(x, 0.0) + std::log1p(std::exp(-std::fabs(x)));
    case OpKind::Sin:
      return std::sin(x);
    case OpKind::Cos:
      return std::cos(x);
    case OpKind::PowC:
      return std::pow(x, exponent);
    default:
      return x; // stop_gradient
    }
  }

  static double binaryOp(OpKind k, double a, double b) {
    switch (k) {
    case OpKind::Add:
      return a + b;
    case OpKind::Sub:
      return a - b;
    case OpKind::Mul:
      return a * b;
    case OpKind::Div:
      return a / b;
    case OpKind::Max:
      return a >= b ? a : b;
    case OpKind::Min:
      return a <= b ? a : b;
    case OpKind::LeakyRelu:
      return a > 0 ? a : b * a;
    case OpKind::Lt:
      return a < b;
    case OpKind::Le:
      return a <= b;
    case OpKind::Gt:
      return a > b;
    case OpKind::Ge:
      return a >= b;
    case OpKind::Eq:
      return a == b;
    default:
      return a != b;
    }
  }

private:
  const sema::Model &m_;
  const runtime::Interpreter &in_;
  std::map<std::pair<int, Pos>, double> memo_;
};

/// Runs displayed equations: gradients live in `grads`, by name.
class Display {
public:
  explicit Display(Forward &fwd) : fwd_(fwd) {}
  std::map<std::string, std::map<Pos, double>> grads;
  std::vector<std::string> problems;

  void run(const std::vector<GradItem> &items, std::vector<int64_t> &steps) {
    for (const GradItem &it : items) {
      if (!it.loop) {
        line(it.line, steps);
        continue;
      }
      if (static_cast<int>(steps.size()) <= it.depth)
        steps.resize(it.depth + 1);
      for (int64_t k = 0; k < it.steps; ++k) {
        steps[it.depth] = it.reverse ? it.steps - 1 - k : k;
        run(it.body, steps);
      }
    }
  }

private:
  void bound(const DExprPtr &e, std::set<int> &out) {
    // softmax(v: ...) normalizes over v and leaves it free: a position.
    if (e->name != "softmax" && e->name != "log_softmax")
      out.insert(e->bound.begin(), e->bound.end());
    for (auto &k : e->kids)
      bound(k, out);
    for (auto &s : e->subs)
      for (auto &[r, c] : s.reads)
        bound(r, out);
  }

  void line(const Line &L, const std::vector<int64_t> &steps) {
    std::set<int> inBinder;
    bound(L.rhs, inBinder);
    for (const DIndex &i : L.at) // argmax(v: ...) in a scatter's position
      for (auto &[r, c] : i.reads)
        bound(r, inBinder);
    std::vector<int> free;
    std::vector<int64_t> vals(L.vars.size(), 0);
    for (size_t v = 0; v < L.vars.size(); ++v) {
      if (L.vars[v].level >= 0)
        vals[v] = steps.at(L.vars[v].level);
      else if (!inBinder.count(static_cast<int>(v)))
        free.push_back(static_cast<int>(v));
    }
    // `=` sets each target position once: every index it runs over is on
    // the left (a sum on the right sits in a binder, printed or implicit).
    if (!L.accumulate)
      for (int v : free) {
        bool onLeft = false;
        for (const DIndex &i : L.at)
          for (auto &[w, c] : i.vars)
            onLeft = onLeft || w == v;
        if (!onLeft)
          problems.push_back("'" + printLine(L) + "' sets a position once per value of " +
                             L.vars[v].name);
      }
    std::function<void(size_t)> go = [&](size_t k) {
      if (k < free.size()) {
        for (int64_t i = 0; i < L.vars[free[k]].size; ++i) {
          vals[free[k]] = i;
          go(k + 1);
        }
        return;
      }
      Pos p;
      for (const DIndex &i : L.at)
        p.push_back(index(L, i, vals));
      double x = expr(L, L.rhs, vals);
      double &slot = grads[L.target][p];
      slot = L.accumulate ? slot + x : x;
    };
    go(0);
  }

  int64_t index(const Line &L, const DIndex &i, std::vector<int64_t> &vals) {
    int64_t x = i.constant;
    for (auto &[v, c] : i.vars)
      x += c * vals[v];
    for (auto &[r, c] : i.reads)
      x += c * static_cast<int64_t>(expr(L, r, vals));
    return x;
  }

  double readTensor(const std::string &name, const Pos &p) {
    if (name.rfind("grad.", 0) == 0 || name.rfind("δ", 0) == 0) {
      auto t = grads.find(name);
      if (t == grads.end())
        return 0;
      auto v = t->second.find(p);
      return v == t->second.end() ? 0 : v->second;
    }
    int t = fwd_.find(name);
    if (t < 0) {
      problems.push_back("a line reads '" + name + "', which is no tensor of the model");
      return 0;
    }
    return fwd_.at(t, p);
  }

  template <class F>
  void over(const Line &L, const std::vector<int> &vars, std::vector<int64_t> &vals, F f) {
    overAssignments(L.vars, vars, vals, f);
  }

  double expr(const Line &L, const DExprPtr &e, std::vector<int64_t> &vals) {
    auto kid = [&](int i) { return expr(L, e->kids[i], vals); };
    switch (e->kind) {
    case DKind::Number:
      return e->number;
    case DKind::Index:
      return static_cast<double>(index(L, e->subs[0], vals));
    case DKind::Read: {
      Pos p;
      for (const DIndex &i : e->subs)
        p.push_back(index(L, i, vals));
      return readTensor(e->name, p);
    }
    case DKind::Neg:
      return -kid(0);
    case DKind::Pow:
      return std::pow(kid(0), e->number);
    case DKind::Binary:
      return Forward::binaryOp(e->op, kid(0), kid(1));
    case DKind::Call: {
      if (e->name == "where")
        return kid(0) != 0 ? kid(1) : kid(2);
      OpKind k;
      REQUIRE(ir::opFromMnemonic(e->name, k));
      if (e->kids.size() == 2)
        return Forward::binaryOp(k, kid(0), kid(1));
      return Forward::unary(k, kid(0), 0);
    }
    case DKind::Binder: {
      if (e->name == "softmax" || e->name == "log_softmax") {
        double z = kid(0), m = -INFINITY, sum = 0;
        std::vector<double> xs;
        over(L, e->bound, vals, [&] { xs.push_back(kid(0)); });
        for (double x : xs)
          m = std::max(m, x);
        for (double x : xs)
          sum += std::exp(x - m);
        return e->name == "softmax" ? std::exp(z - m) / sum : z - m - std::log(sum);
      }
      std::vector<double> xs;
      over(L, e->bound, vals, [&] { xs.push_back(kid(0)); });
      double acc = e->name == "sum" ? 0 : xs.at(0);
      size_t arg = 0;
      for (size_t k = 0; k < xs.size(); ++k) {
        if (e->name == "sum")
          acc += xs[k];
        else if ((e->name == "min" ? xs[k] < acc : xs[k] > acc) && k > 0)
          acc = xs[k], arg = k;
      }
      if (e->name == "argmax")
        return static_cast<double>(arg);
      if (e->name != "logsumexp")
        return acc;
      double sum = 0;
      for (double x : xs)
        sum += std::exp(x - acc);
      return acc + std::log(sum);
    }
    case DKind::At: {
      std::vector<int64_t> saved = vals;
      for (size_t k = 0; k < e->bound.size(); ++k)
        vals[e->bound[k]] = index(L, e->subs[k], vals);
      double x = kid(0);
      vals = saved;
      return x;
    }
    }
    return 0;
  }

  Forward &fwd_;
};

} // namespace gradc::testutil
