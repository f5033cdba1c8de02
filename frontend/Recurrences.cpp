//===- frontend/Recurrences.cpp - Strongly connected groups of equations --===//
//
// Algorithm (LANGUAGE.md, "Recurrences"):
//  1. Tensors defined by equations read each other; Tarjan's algorithm gives
//     the strongly connected groups in dependency order (the schedule).
//  2. A group with a cycle is a recurrence. Its index is a left-side variable
//     t of the group's first equation (the leftmost that qualifies) such that
//     following every read of a group tensor inside the group assigns each
//     tensor a t-axis subscripted `t + k`, with all k <= 0 (forwards) or all
//     k >= 0 (backwards).
//  3. The reads with k = 0 (on every enclosing recurrence axis) form the
//     body of one step; a cycle among them is a nested recurrence, analysed
//     the same way with the enclosing axes excluded.
//  4. Each group tensor's storage is extended along its recurrence axis by
//     the number of boundary positions it needs (ir/Graph.h).
//
//===----------------------------------------------------------------------===//
#include "frontend/SemaImpl.h"

#include "support/Assert.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

namespace gradc::sema {

namespace {


bool locBefore(SourceLoc a, SourceLoc b) {
  if (a.file != b.file)
    return a.file < b.file;
  if (a.line != b.line)
    return a.line < b.line;
  return a.col < b.col;
}

/// Per tensor: recurrence axes already fixed by enclosing groups, with the
/// equation variable standing on each, so inner analysis can filter reads.
using AxisMap = std::map<int, std::vector<int>>;

struct GroupAnalysis {
  SemaImpl &S;
  Model &M;

  /// Tarjan over `nodes` with edges given by `edges(t)`; returns SCCs with
  /// dependencies first.
  std::vector<std::vector<int>> scc(const std::vector<int> &nodes,
                                    const std::function<std::vector<int>(int)> &edges) {
    std::map<int, int> index, low;
    std::set<int> onStack;
    std::vector<int> stack;
    std::vector<std::vector<int>> out;
    int counter = 0;
    std::function<void(int)> strong = [&](int v) {
      index[v] = low[v] = counter++;
      stack.push_back(v);
      onStack.insert(v);
      for (int w : edges(v)) {
        if (!index.count(w)) {
          strong(w);
          low[v] = std::min(low[v], low[w]);
        } else if (onStack.count(w)) {
          low[v] = std::min(low[v], index[w]);
        }
      }
      if (low[v] == index[v]) {
        std::vector<int> comp;
        int w;
        do {
          w = stack.back();
          stack.pop_back();
          onStack.erase(w);
          comp.push_back(w);
        } while (w != v);
        std::sort(comp.begin(), comp.end(),
                  [&](int a, int b) { return M.tensors[a].mainEq < M.tensors[b].mainEq; });
        out.push_back(comp);
      }
    };
    for (int n : nodes)
      if (!index.count(n))
        strong(n);
    return out;
  }

  /// The offset k of a read's subscript on axis `ax` when it is `var + k`.
  static bool offsetOn(const RExpr &r, int ax, int var, int64_t &k) {
    int v;
    if (ax >= static_cast<int>(r.subs.size()) || !r.subs[ax].isSimpleVar(v, k))
      return false;
    return v == var;
  }

  /// Whether a read inside equation `eq` is at offset 0 on every enclosing
  /// recurrence axis of the read tensor (so it belongs to this step).
  bool sameOuterStep(const Equation &eq, const RExpr &r, const AxisMap &outer) {
    auto it = outer.find(r.tensor);
    auto mine = outer.find(eq.tensor);
    if (it == outer.end() || mine == outer.end())
      return true;
    for (size_t d = 0; d < it->second.size(); ++d) {
      int ownAxis = mine->second[d];
      int var = eq.lhs[ownAxis].var;
      int64_t k;
      if (!offsetOn(r, it->second[d], var, k) || k != 0)
        return false;
    }
    return true;
  }

  std::vector<int> groupEdges(int t, const std::set<int> &group, const AxisMap &outer) {
    std::vector<int> out;
    const Equation &eq = M.equations[M.tensors[t].mainEq];
    forEachRead(*eq.rhs, [&](const RExpr &r) {
      if (group.count(r.tensor) && sameOuterStep(eq, r, outer))
        out.push_back(r.tensor);
    });
    return out;
  }

  /// Tensors read by t's boundary values: they are computed before t's
  /// recurrence starts, so at the top level they are dependencies too.
  std::vector<int> boundaryEdges(int t, const std::set<int> &nodes) {
    std::vector<int> out;
    for (int b : M.tensors[t].boundaryEqs)
      forEachRead(*M.equations[b].rhs, [&](const RExpr &r) {
        if (nodes.count(r.tensor))
          out.push_back(r.tensor);
      });
    return out;
  }

  /// A boundary value may not depend on the recurrence it starts.
  void checkBoundaryCycles(const std::vector<int> &comp) {
    std::set<int> inComp(comp.begin(), comp.end());
    for (int t : comp)
      for (int b : M.tensors[t].boundaryEqs)
        forEachRead(*M.equations[b].rhs, [&](const RExpr &r) {
          if (!inComp.count(r.tensor))
            return;
          S.errorIn(S.eqCallStack_[b], r.loc,
                    "the boundary value of '" + M.tensors[t].name + "' reads '" +
                        M.tensors[r.tensor].name +
                        "', which the recurrence it starts computes (a cycle)");
          throw UserError();
        });
  }

  /// Builds the units for `nodes` (dependency order), nesting recurrences.
  std::vector<Unit> schedule(const std::vector<int> &nodes, const AxisMap &outer) {
    std::set<int> inSet(nodes.begin(), nodes.end());
    std::vector<Unit> units;
    auto edges = [&](int t) {
      std::vector<int> e = groupEdges(t, inSet, outer);
      if (outer.empty())
        for (int b : boundaryEdges(t, inSet))
          e.push_back(b);
      return e;
    };
    for (auto &comp : scc(nodes, edges)) {
      if (outer.empty())
        checkBoundaryCycles(comp);
      bool cyclic = comp.size() > 1;
      if (!cyclic) {
        std::vector<int> e = groupEdges(comp[0], inSet, outer);
        cyclic = std::count(e.begin(), e.end(), comp[0]) > 0;
      }
      Unit u;
      if (!cyclic)
        u.eq = M.tensors[comp[0]].mainEq;
      else
        u.group = analyzeGroup(comp, outer);
      units.push_back(std::move(u));
    }
    return units;
  }

  std::unique_ptr<RecGroup> analyzeGroup(const std::vector<int> &comp, const AxisMap &outer) {
    std::set<int> group(comp.begin(), comp.end());
    int first = comp[0];
    for (int t : comp)
      if (locBefore(M.equations[M.tensors[t].mainEq].loc, M.equations[M.tensors[first].mainEq].loc))
        first = t;
    const Equation &firstEq = M.equations[M.tensors[first].mainEq];
    bool sawMixed = false;
    for (size_t p = 0; p < firstEq.lhs.size(); ++p) {
      bool usedOuter = false;
      if (auto it = outer.find(first); it != outer.end())
        usedOuter = std::count(it->second.begin(), it->second.end(), static_cast<int>(p)) > 0;
      if (usedOuter || firstEq.lhs[p].var < 0)
        continue;
      std::map<int, int> axis{{first, static_cast<int>(p)}};
      std::vector<int> work{first};
      bool ok = true, neg = false, pos = false;
      while (!work.empty() && ok) {
        int a = work.back();
        work.pop_back();
        const Equation &eq = M.equations[M.tensors[a].mainEq];
        int var = eq.lhs[axis[a]].var;
        forEachRead(*eq.rhs, [&](const RExpr &r) {
          if (!ok || !group.count(r.tensor) || !sameOuterStep(eq, r, outer))
            return;
          int64_t k;
          auto known = axis.find(r.tensor);
          if (known != axis.end()) {
            if (!offsetOn(r, known->second, var, k)) {
              ok = false;
              return;
            }
          } else {
            int found = -1;
            for (size_t q = 0; q < r.subs.size() && found < 0; ++q)
              if (offsetOn(r, static_cast<int>(q), var, k))
                found = static_cast<int>(q);
            if (found < 0) {
              ok = false;
              return;
            }
            axis[r.tensor] = found;
            work.push_back(r.tensor);
          }
          neg = neg || k < 0;
          pos = pos || k > 0;
        });
      }
      if (ok && static_cast<int>(axis.size()) != static_cast<int>(comp.size()))
        ok = false;
      if (!ok || (!neg && !pos))
        continue;
      if (neg && pos) {
        sawMixed = true;
        continue;
      }
      return buildGroup(comp, axis, pos, outer);
    }
    std::vector<std::pair<SourceLoc, std::string>> none;
    size_t eid = M.tensors[first].mainEq;
    std::string names;
    for (int t : comp)
      names += (names.empty() ? "'" : ", '") + M.tensors[t].name + "'";
    if (sawMixed)
      S.errorIn(S.eqCallStack_[eid], firstEq.loc,
                "recurrence reads both earlier and later positions (" + names +
                    "): a recurrence runs one way, reading t-1 ... or t+1 ..., not both");
    else if (comp.size() == 1)
      S.errorIn(S.eqCallStack_[eid], firstEq.loc,
                "cycle: " + names +
                    " reads itself, but not at an earlier or later position (t-1 or t+1) "
                    "of an index of its left side, so it is not a recurrence");
    else
      S.errorIn(S.eqCallStack_[eid], firstEq.loc,
                "cycle: " + names +
                    " depend on each other at the same position; a recurrence needs an index "
                    "read at an earlier position (t-1) or a later one (t+1)");
    throw UserError();
  }

  std::unique_ptr<RecGroup> buildGroup(const std::vector<int> &comp, std::map<int, int> &axis,
                                       bool reverse, const AxisMap &outer) {
    auto g = std::make_unique<RecGroup>();
    g->reverse = reverse;
    g->loc = M.equations[M.tensors[comp[0]].mainEq].loc;
    std::set<int> group(comp.begin(), comp.end());
    for (int t : comp) {
      g->tensors.push_back(t);
      g->axis.push_back(axis[t]);
    }
    g->steps = M.tensors[comp[0]].shape[axis[comp[0]]];
    // An int tensor's boundary values are placed into its storage without
    // adding (arithmetic is f32), so it takes at most one.
    for (int t : comp)
      if (M.tensors[t].isInt && M.tensors[t].boundaryEqs.size() > 1) {
        int b = M.tensors[t].boundaryEqs[1];
        S.errorIn(S.eqCallStack_[b], M.equations[b].loc,
                  "'" + M.tensors[t].name + "' is int: it takes one boundary equation");
        throw UserError();
      }
    for (int t : comp)
      if (M.tensors[t].shape[axis[t]] != g->steps) {
        S.diags_.error(M.tensors[t].loc, "the recurrence tensors have different lengths along "
                                         "their recurrence axis");
        throw UserError();
      }
    // Extension: the farthest in-group read before (after) the current step,
    // and the farthest boundary position.
    for (int t : comp) {
      Tensor &T = M.tensors[t];
      int ax = axis[t];
      int64_t need = 0;
      for (int a : comp) {
        const Equation &eq = M.equations[M.tensors[a].mainEq];
        int var = eq.lhs[axis[a]].var;
        forEachRead(*eq.rhs, [&](const RExpr &r) {
          int64_t k;
          if (r.tensor == t && offsetOn(r, ax, var, k))
            need = std::max(need, reverse ? k : -k);
        });
      }
      for (int b : T.boundaryEqs) {
        const Equation &be = M.equations[b];
        for (size_t p = 0; p < be.lhs.size(); ++p) {
          if (be.lhs[p].var >= 0)
            continue;
          int64_t c = be.lhs[p].constant;
          if (static_cast<int>(p) != ax)
            continue; // a boundary of another (enclosing or nested) recurrence
          bool readingSide = reverse ? c >= T.shape[ax] : c < 0;
          if (!readingSide) {
            S.errorIn(S.eqCallStack_[b], be.loc,
                      std::string("boundary position ") + std::to_string(c) + " of '" + T.name +
                          "' is not before the " + (reverse ? "last" : "first") +
                          " step: this recurrence runs " + (reverse ? "backwards" : "forwards") +
                          ", so its boundary is at " +
                          (reverse ? std::to_string(T.shape[ax]) + ", " +
                                         std::to_string(T.shape[ax] + 1) + ", ..."
                                   : std::string("-1, -2, ...")));
            throw UserError();
          }
          need = std::max(need, reverse ? c - T.shape[ax] + 1 : -c);
        }
      }
      if (T.extBefore.empty()) {
        T.extBefore.assign(T.shape.size(), 0);
        T.extAfter.assign(T.shape.size(), 0);
      }
      (reverse ? T.extAfter : T.extBefore)[ax] = need;
    }
    AxisMap inner = outer;
    for (int t : comp)
      inner[t].push_back(axis[t]);
    g->body = schedule(comp, inner);
    return g;
  }
};

} // namespace

void SemaImpl::analyzeRecurrences() {
  std::vector<int> nodes;
  for (size_t t = 0; t < model_->tensors.size(); ++t)
    if (model_->tensors[t].role == Role::Equation && model_->tensors[t].mainEq >= 0)
      nodes.push_back(static_cast<int>(t));
  GroupAnalysis ga{*this, *model_};
  model_->schedule = ga.schedule(nodes, {});
  // Boundary values only make sense on recurrence tensors, along one of
  // their recurrence axes.
  std::map<int, std::set<int>> recAxes;
  std::function<void(const std::vector<Unit> &)> collect = [&](const std::vector<Unit> &us) {
    for (auto &u : us)
      if (u.group) {
        for (size_t i = 0; i < u.group->tensors.size(); ++i)
          recAxes[u.group->tensors[i]].insert(u.group->axis[i]);
        collect(u.group->body);
      }
  };
  collect(model_->schedule);
  for (size_t t = 0; t < model_->tensors.size(); ++t) {
    const Tensor &T = model_->tensors[t];
    std::map<std::vector<std::pair<size_t, int64_t>>, int> positions;
    for (int b : T.boundaryEqs) {
      const Equation &be = model_->equations[b];
      std::vector<std::pair<size_t, int64_t>> at;
      for (size_t p = 0; p < be.lhs.size(); ++p)
        if (be.lhs[p].var < 0)
          at.push_back({p, be.lhs[p].constant});
      auto [it, fresh] = positions.emplace(at, b);
      if (!fresh) {
        errorIn(eqCallStack_[b], be.loc,
                "redefinition of a boundary value of '" + T.name + "' (the same position)");
        diags_.note(model_->equations[it->second].loc, "first set here");
        throw UserError();
      }
      if (!recAxes.count(static_cast<int>(t))) {
        errorIn(eqCallStack_[b], be.loc,
                "'" + T.name + "' is not computed by a recurrence, so it has no boundary values");
        throw UserError();
      }
      for (size_t p = 0; p < be.lhs.size(); ++p)
        if (be.lhs[p].var < 0 && !recAxes[static_cast<int>(t)].count(static_cast<int>(p))) {
          std::string axes;
          for (int a : recAxes[static_cast<int>(t)])
            axes += (axes.empty() ? "" : ", ") + std::to_string(a);
          errorIn(eqCallStack_[b], be.loc,
                  "a boundary value is set along a recurrence axis of '" + T.name +
                      "' (axis " + axes + "), but this one fixes axis " + std::to_string(p));
          throw UserError();
        }
    }
  }
}

} // namespace gradc::sema
