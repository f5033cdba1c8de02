//===- frontend/LoweringImpl.h - The lowering's state, shared by its parts -===//
//
// Lowering.cpp lowers equations and expressions; LowerRecurrence.cpp lowers
// recurrences (extended storage, boundary values, loop bodies). Nothing
// outside frontend/ includes this header.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/Model.h"
#include "ir/Builder.h"

#include <algorithm>
#include <map>
#include <set>
#include <vector>

namespace gradc::lowering {

using namespace sema;

/// How a tensor is held in the current context: a value whose axes are the
/// tensor's axes minus the fixed ones (axisMap -1), each read position
/// shifted by the storage extension.
struct View {
  ir::Value *value = nullptr;
  std::vector<int> axisMap;
  std::vector<int64_t> shift;
};

struct Level {
  const RecGroup *group;
  ir::Value *step;
  std::map<int, int> axisOf; ///< tensor -> its recurrence axis
  std::map<int, View> carried, local;
};

/// A lowered subexpression: its axes stand for these index variables.
struct LV {
  ir::Value *v;
  std::vector<int> vars;
};

class Lowerer {
public:
  Lowerer(const Model &m, ir::Graph &g, bool training) : M(m), G(g), B(g), training(training) {}

  void run();

private:
  // Context of the equation being lowered.
  const Equation *eq = nullptr;
  std::map<int, int> symbolOf; ///< var -> level whose step it stands for
  std::vector<int> varRank;    ///< left-side variables first, in their order
  std::vector<ir::Value *> syms;

  const Model &M;
  ir::Graph &G;
  ir::Builder B;
  bool training;
  std::map<int, View> top;
  std::vector<Level> levels;
  std::map<int, ir::Value *> plainValues; ///< each tensor as its own shape
  std::set<ir::Value *> claimed;          ///< values already named after a tensor

  int64_t size(int var) const { return eq->vars[var].size; }
  std::vector<int64_t> sizes(const std::vector<int> &vars) const {
    std::vector<int64_t> s;
    for (int v : vars)
      s.push_back(size(v));
    return s;
  }
  int symIndex(ir::Value *step) {
    for (size_t i = 0; i < syms.size(); ++i)
      if (syms[i] == step)
        return static_cast<int>(i);
    syms.push_back(step);
    return static_cast<int>(syms.size()) - 1;
  }

  ir::Affine affineFor(const Subscript &s, const std::map<int, int> &loopPos, int64_t shift) {
    ir::Affine a;
    a.constant = s.constant + shift;
    for (auto &[v, c] : s.terms) {
      auto sym = symbolOf.find(v);
      if (sym != symbolOf.end())
        a.add(ir::Affine::symbolVar(symIndex(levels[sym->second].step)), c);
      else
        a.add(loopPos.at(v), c);
    }
    return a;
  }

  void loopVarsOf(const RExpr &r, std::vector<int> &out) {
    for (auto &s : r.subs) {
      for (auto &[v, c] : s.terms)
        if (!symbolOf.count(v) && std::find(out.begin(), out.end(), v) == out.end())
          out.push_back(v);
      if (s.indirect)
        loopVarsOf(*s.indirect, out);
    }
  }

  void storageOrder(const RExpr &e, std::vector<int> &out);
  const View &viewFor(const RExpr &r);
  LV read(const RExpr &r);
  LV lower(const RExpr &e);
  LV lowerSum(const RExpr &e);
  ir::Value *layout(const LV &x, const std::vector<int> &vars, bool materialize);
  ir::Value *lowerEquation(const Equation &e, std::vector<int> *domainOut = nullptr);
  void lowerUnit(const Unit &u);
  void lowerGroup(const RecGroup &g);
  std::vector<bool> carriedTensors(const RecGroup &g);
  ir::Value *boundaryInit(int tensor, const std::vector<int64_t> &extShape,
                          const std::vector<int64_t> &shift);
  void beginEquation(const Equation &e);
};

} // namespace gradc::lowering
