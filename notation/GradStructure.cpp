//===- notation/GradStructure.cpp - Which equation each backward op shows -===//
//
// Algorithm:
//  1. Pair each backward region with the forward region it differentiates:
//     the top level with itself, a backward loop's body with the forward
//     loop's body. A backward body starts by recomputing the forward step
//     (passes/GradRecurrence.cpp): those ops are matched, in order, to the
//     forward ops they copy, and read as the forward values they are.
//  2. Cut each forward region into equations: a run of ops ends at a value
//     named after a tensor (an equation's result) or at a recurrence; the
//     ops that set up a recurrence's boundary values are split off into the
//     boundary equations they come from.
//  3. Autodiff visits forward ops last to first and gives every op it builds
//     the location of the forward op it differentiates. So walking the
//     backward ops in order, each one belongs to the nearest forward op at
//     or before the previous match that has its location (and that comes
//     after every forward value it reads): that op's equation is its block.
// How each value reads is decided in GradViews.cpp.
//
//===----------------------------------------------------------------------===//
#include "notation/GradEqsImpl.h"

#include <algorithm>
#include <cctype>

namespace gradc::notation {

using namespace ir;

bool isTemp(const Value *v) {
  return v->name.empty() || std::isdigit(static_cast<unsigned char>(v->name[0]));
}

bool isLeaf(const Op &op) {
  return op.opClass() == OpClass::Leaf && op.kind != OpKind::Constant && op.kind != OpKind::Iota;
}

bool isZero(const Value *v) {
  return v->def && v->def->kind == OpKind::Constant && v->def->value == 0;
}

bool setsSteps(const Op &rec) {
  for (auto &op : rec.body->ops)
    if (op->kind == OpKind::Yield)
      for (auto &y : op->yields)
        if (y.accumulate)
          return false;
  return true;
}

std::string GradEqs::displayName(const Value *v) const {
  if (v->def && isLeaf(*v->def))
    return v->def->name;
  std::string t = src_.tensorFor(v->name);
  return t.empty() ? v->name : t;
}

const Value *GradEqs::canon(const Value *v) const {
  auto it = originalOf_.find(v);
  return it == originalOf_.end() ? v : it->second;
}

void GradEqs::countUses(const Region &r) {
  for (auto &op : r.ops) {
    for (Value *v : op->operands) {
      ++uses_[v];
      const Region *home = v->def ? v->def->parent : v->owner;
      if (home != &r)
        crossRegion_.insert(v);
      if (op->kind == OpKind::Recurrence)
        recOperands_.insert(v);
    }
    if (op->body)
      countUses(*op->body);
  }
}

//===----------------------------------------------------------------------===//
// Pairs, recomputed ops, equations
//===----------------------------------------------------------------------===//

void GradEqs::mapClone(const Op &clone, const Op &original) {
  for (size_t i = 0; i < clone.results.size(); ++i) {
    originalOf_[clone.results[i]] = original.results[i];
    auto v = R_.views.find(original.results[i]);
    if (v != R_.views.end() && !R_.views.count(clone.results[i]))
      R_.views[clone.results[i]] = v->second;
  }
  if (!clone.body || !original.body)
    return;
  // A copied loop: its body copies the original's, argument by argument.
  for (size_t i = 0; i < clone.body->args.size() && i < original.body->args.size(); ++i)
    originalOf_[clone.body->args[i]] = original.body->args[i];
  size_t q = 0;
  for (auto &op : clone.body->ops)
    for (size_t k = q; k < original.body->ops.size(); ++k)
      if (original.body->ops[k]->kind == op->kind && original.body->ops[k]->loc == op->loc) {
        mapClone(*op, *original.body->ops[k]);
        q = k + 1;
        break;
      }
}

bool GradEqs::sameOp(const Op &fwd, const Op &clone) const {
  if (fwd.kind != clone.kind || fwd.loc != clone.loc ||
      fwd.operands.size() != clone.operands.size() || fwd.symbols.size() != clone.symbols.size() ||
      fwd.maps != clone.maps || fwd.outMap != clone.outMap || fwd.value != clone.value ||
      fwd.axes != clone.axes || fwd.reductionSizes != clone.reductionSizes)
    return false;
  // The copy reads the forward loop's final storage where the original read
  // its carried arguments, and the backward step where it read the forward one.
  auto same = [&](const Value *c, const Value *f) {
    c = canon(c);
    auto arg = argOfResult_.find(c);
    return c == f || (arg != argOfResult_.end() && canon(arg->second) == f);
  };
  for (size_t i = 0; i < fwd.operands.size(); ++i)
    if (!same(clone.operands[i], fwd.operands[i]))
      return false;
  for (size_t i = 0; i < fwd.symbols.size(); ++i)
    if (!same(clone.symbols[i], fwd.symbols[i]))
      return false;
  return true;
}

void GradEqs::findClones(Pair &p) {
  bool copying = p.fwdRec != nullptr;
  size_t q = 0;
  for (auto &op : p.bwdRec->body->ops) {
    if (op->kind == OpKind::Yield)
      continue;
    if (copying) {
      size_t k = q;
      while (k < p.fwdOps.size() && !sameOp(*p.fwdOps[k], *op))
        ++k;
      if (k < p.fwdOps.size()) {
        p.cloneOf[op.get()] = p.fwdOps[k];
        mapClone(*op, *p.fwdOps[k]);
        q = k + 1;
        continue;
      }
      copying = false; // the backward sweep proper starts here
    }
    p.sweep.push_back(op.get());
  }
}

void GradEqs::cutSegments(Pair &p) {
  std::vector<std::vector<const Op *>> runs;
  std::vector<const Op *> run;
  for (const Op *op : p.fwdOps) {
    if (isLeaf(*op)) {
      if (!run.empty())
        runs.push_back(std::move(run));
      runs.push_back({op});
      run.clear();
      continue;
    }
    run.push_back(op);
    if (op->kind == OpKind::Recurrence || (op->results.size() == 1 && !isTemp(op->result()))) {
      runs.push_back(std::move(run));
      run.clear();
    }
  }
  if (!run.empty())
    runs.push_back(std::move(run));

  for (auto &ops : runs) {
    const Op *last = ops.back();
    Segment s;
    s.first = ops.front();
    if (isLeaf(*last)) {
      s.kind = Segment::Leaf;
      s.tensors = {last->name};
    } else if (last->kind == OpKind::Recurrence) {
      s.kind = Segment::Group;
      for (const Value *v : last->results)
        s.tensors.push_back(displayName(v));
      // The ops before the loop build its boundary values: each belongs to
      // the boundary equation whose expression it lowers.
      std::map<int, int> boundarySegment;
      for (size_t i = 0; i + 1 < ops.size(); ++i)
        for (const std::string &t : s.tensors)
          for (int eq : src_.boundaryEquations(t)) {
            if (!src_.equationHasLoc(eq, ops[i]->loc))
              continue;
            if (!boundarySegment.count(eq)) {
              Segment b;
              b.kind = Segment::Equation;
              b.eq = eq;
              b.first = ops[i];
              boundarySegment[eq] = static_cast<int>(p.segments.size());
              p.segments.push_back(b);
            }
            p.segmentOf[ops[i]] = boundarySegment[eq];
          }
    } else if (!isTemp(last->result())) {
      std::string t = displayName(last->result());
      s.tensors = {t};
      s.eq = src_.mainEquation(t);
      s.kind = s.eq >= 0 ? Segment::Equation : Segment::Unknown;
    }
    int id = static_cast<int>(p.segments.size());
    p.segments.push_back(s);
    for (const Op *op : ops)
      if (!p.segmentOf.count(op))
        p.segmentOf[op] = id;
    for (const std::string &t : s.tensors)
      if (s.kind != Segment::Leaf)
        p.segmentOfTensor[t] = id;
  }
}

void GradEqs::matchSweep(Pair &p) {
  std::map<const Value *, int> defIndex;
  for (size_t k = 0; k < p.fwdOps.size(); ++k)
    for (const Value *v : p.fwdOps[k]->results)
      defIndex[v] = static_cast<int>(k);
  int pos = static_cast<int>(p.fwdOps.size()) - 1;
  for (const Op *op : p.sweep) {
    // A rule reads values of the op it differentiates, never later ones.
    int after = 0;
    for (const Value *v : op->operands) {
      auto it = defIndex.find(canon(v));
      if (it != defIndex.end())
        after = std::max(after, it->second);
    }
    auto matches = [&](int k) {
      const Op &f = *p.fwdOps[k];
      return f.loc == op->loc && (op->kind != OpKind::Recurrence || f.kind == OpKind::Recurrence);
    };
    int found = -1;
    for (int k = pos; k >= after && found < 0; --k)
      if (matches(k))
        found = k;
    // After the sweep, autodiff gives parameters the loss does not use a
    // zero gradient, in declaration order: those match leaves anywhere.
    for (int k = pos + 1; found < 0 && k < static_cast<int>(p.fwdOps.size()); ++k)
      if (isLeaf(*p.fwdOps[k]) && matches(k))
        found = k;
    if (found < 0) {
      p.blockOf[op] = -1;
      continue;
    }
    pos = std::min(pos, found);
    p.blockOf[op] = p.segmentOf.at(p.fwdOps[found]);
    p.matched[op] = p.fwdOps[found];
  }
}

int GradEqs::buildPair(int depth, const Op *fwdRec, const Op *bwdRec) {
  int index = static_cast<int>(pairs_.size());
  pairs_.push_back(std::make_unique<Pair>());
  Pair &p = *pairs_.back();
  p.depth = depth;
  p.fwdRec = fwdRec;
  p.bwdRec = bwdRec;
  if (!bwdRec) {
    for (auto &op : g_.top.ops)
      (op->backward ? p.sweep : p.fwdOps).push_back(op.get());
  } else {
    if (fwdRec) {
      for (auto &op : fwdRec->body->ops)
        if (op->kind != OpKind::Yield)
          p.fwdOps.push_back(op.get());
      // The backward step stands for the forward one: a loop nested in
      // this body is recomputed with it where the original used that.
      originalOf_[bwdRec->body->args[0]] = fwdRec->body->args[0];
    }
    findClones(p);
  }
  cutSegments(p);
  matchSweep(p);
  for (const Op *op : p.sweep)
    pairOf_[op] = index;
  for (const Op *op : p.sweep)
    if (op->kind == OpKind::Recurrence) {
      auto m = p.matched.find(op);
      const Op *fwd =
          m != p.matched.end() && m->second->kind == OpKind::Recurrence ? m->second : nullptr;
      int child = buildPair(depth + 1, fwd, op);
      p.loops[op] = child;
    }
  return index;
}

} // namespace gradc::notation
