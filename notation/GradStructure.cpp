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
//  4. Decide how each value reads: forward values and named gradients by
//     name (through a View that undoes extended storage), one-use backward
//     temporaries inlined into the expression that uses them, and several-
//     use ones named δ<tensor> on a line of their own.
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

static bool isLeaf(const Op &op) {
  return op.opClass() == OpClass::Leaf && op.kind != OpKind::Constant && op.kind != OpKind::Iota;
}

static bool isZero(const Value *v) {
  return v->def && v->def->kind == OpKind::Constant && v->def->value == 0;
}

/// A forward recurrence (or its recomputed copy) sets its steps; a backward
/// loop adds into its storage.
static bool setsSteps(const Op &rec) {
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
// Views of forward values and of recurrence storage
//===----------------------------------------------------------------------===//

void GradEqs::recurrenceViews(const Op &rec) {
  for (size_t i = 0; i < rec.carried.size(); ++i) {
    const CarriedInfo &ci = rec.carried[i];
    const Value *arg = rec.body->args[i + 1];
    std::string name = src_.tensorFor(arg->name);
    if (name.empty())
      name = src_.tensorFor(rec.results[i]->name);
    if (name.empty())
      name = arg->name;
    // An inner loop's storage is a slice of the outer loop's at its step.
    View base = View::identity(name, static_cast<int>(arg->type.rank()));
    auto init = R_.views.find(rec.operands[i]);
    if (ci.axis >= 0 && init != R_.views.end() &&
        std::any_of(init->second.slots.begin(), init->second.slots.end(),
                    [](const View::Slot &s) { return s.axis < 0; }))
      base = init->second;
    for (View::Slot &s : base.slots)
      if (ci.axis >= 0 && s.axis == ci.axis)
        s.shift -= ci.offset;
    R_.views[rec.results[i]] = base;
    R_.views[arg] = base;
    // The initial storage a backward loop starts from reads as the gradient.
    const Value *op = rec.operands[i];
    if (op->def && op->def->parent == rec.parent && !isLeaf(*op->def) && !isZero(op))
      R_.views[op] = base;
  }
}

void GradEqs::forwardViews(const Region &r, int depth) {
  for (auto &op : r.ops) {
    if (isLeaf(*op)) {
      R_.views[op->result()] = View::identity(op->name, static_cast<int>(op->result()->type.rank()));
    } else if (op->kind == OpKind::Recurrence) {
      R_.depthOf[op->body->args[0]] = depth;
      recurrenceViews(*op);
      forwardViews(*op->body, depth + 1);
    } else if (!op->backward && !r.parentOp && op->results.size() == 1 &&
               !isTemp(op->result())) {
      R_.views[op->result()] =
          View::identity(displayName(op->result()), static_cast<int>(op->result()->type.rank()));
    }
  }
  if (!r.parentOp || !setsSteps(*r.parentOp))
    return;
  // A forward step's named values are its tensors at step t: those it
  // yields sit where the yield writes them, the others (gates a later step
  // never reads) where the recurrence's axis is.
  const Op &rec = *r.parentOp;
  auto record = [&](const Value *v, const View &view) {
    R_.views[v] = view;
    stepViews_[&rec][view.name] = view;
  };
  for (auto &op : r.ops) {
    if (op->kind != OpKind::Yield)
      continue;
    for (size_t j = 0; j < op->operands.size(); ++j) {
      const YieldInfo &yi = op->yields[j];
      const CarriedInfo &ci = rec.carried[yi.carried];
      const Value *v = op->operands[j];
      if (ci.axis < 0 || yi.whole || isTemp(v) || R_.views.count(v))
        continue;
      View step = R_.views.at(rec.body->args[yi.carried + 1]);
      for (View::Slot &s : step.slots) {
        if (s.axis == ci.axis) {
          s.axis = -1;
          s.fixed = Affine{ci.offset + yi.delta, {{Affine::symbolVar(depth - 1), 1}}};
        } else if (s.axis > ci.axis) {
          --s.axis;
        }
      }
      record(v, step);
    }
  }
  for (auto &op : r.ops) {
    if (op->results.size() != 1 || isTemp(op->result()) || R_.views.count(op->result()))
      continue;
    const Value *v = op->result();
    std::string name = displayName(v);
    int axis = src_.recurrenceAxis(name);
    if (axis < 0 || axis > v->type.rank() || src_.rankOf(name) != v->type.rank() + 1)
      continue;
    View step;
    step.name = name;
    for (int a = 0, k = 0; a <= v->type.rank(); ++a)
      step.slots.push_back(a == axis ? View::Slot{-1, Affine{0, {{Affine::symbolVar(depth - 1), 1}}}, 0}
                                     : View::Slot{k++, {}, 0});
    record(v, step);
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

bool GradEqs::sameOp(const Pair &p, const Op &fwd, const Op &clone) const {
  if (fwd.kind != clone.kind || fwd.loc != clone.loc || fwd.operands.size() != clone.operands.size() ||
      fwd.symbols.size() != clone.symbols.size() || fwd.maps != clone.maps ||
      fwd.outMap != clone.outMap || fwd.value != clone.value || fwd.axes != clone.axes ||
      fwd.reductionSizes != clone.reductionSizes)
    return false;
  // The copy reads the forward loop's final storage where the original read
  // its carried arguments, and the backward step where it read the forward one.
  auto same = [&](const Value *c, const Value *f) {
    c = canon(c);
    if (c == f)
      return true;
    const Op &R = *p.fwdRec;
    for (size_t i = 0; i < R.results.size(); ++i)
      if (c == R.results[i] && f == R.body->args[i + 1])
        return true;
    return c == p.bwdRec->body->args[0] && f == R.body->args[0];
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
      while (k < p.fwdOps.size() && !sameOp(p, *p.fwdOps[k], *op))
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
      s.rec = last;
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
    int found = -1;
    for (int k = pos; k >= after; --k) {
      const Op &f = *p.fwdOps[k];
      if (f.loc == op->loc && (op->kind != OpKind::Recurrence || f.kind == OpKind::Recurrence)) {
        found = k;
        break;
      }
    }
    if (found < 0) {
      p.blockOf[op] = -1;
      continue;
    }
    pos = found;
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
    if (fwdRec)
      for (auto &op : fwdRec->body->ops)
        if (op->kind != OpKind::Yield)
          p.fwdOps.push_back(op.get());
    findClones(p);
  }
  cutSegments(p);
  matchSweep(p);
  for (const Op *op : p.sweep)
    if (op->kind == OpKind::Recurrence) {
      auto m = p.matched.find(op);
      const Op *fwd = m != p.matched.end() && m->second->kind == OpKind::Recurrence ? m->second
                                                                                  : nullptr;
      int child = buildPair(depth + 1, fwd, op);
      p.loops[op] = child;
    }
  return index;
}

//===----------------------------------------------------------------------===//
// How backward values read
//===----------------------------------------------------------------------===//

std::vector<const Value *> GradEqs::terms(const Value *root) const {
  std::vector<const Value *> out;
  std::vector<const Value *> todo(root->def->operands.rbegin(), root->def->operands.rend());
  while (!todo.empty()) {
    const Value *v = todo.back();
    todo.pop_back();
    // Partial sums of one gradient are one-use temporaries in its region.
    bool partial = v->def && v->def->kind == OpKind::Add && v->def->backward && isTemp(v) &&
                   uses_.at(v) == 1 && !crossRegion_.count(v) && !recOperands_.count(v) &&
                   v->def->parent == root->def->parent;
    if (partial)
      todo.insert(todo.end(), v->def->operands.rbegin(), v->def->operands.rend());
    else
      out.push_back(v);
  }
  return out;
}

bool GradEqs::derivedSlots(const Value *v, View &out, int depthLimit) const {
  if (depthLimit == 0 || !v->def)
    return false;
  OpClass c = v->def->opClass();
  if (c != OpClass::Unary && c != OpClass::Binary && c != OpClass::Ternary)
    return false;
  for (const Value *x : v->def->operands) {
    if (x->type.shape != v->type.shape)
      continue;
    auto it = R_.views.find(x);
    if (it != R_.views.end()) {
      if (std::none_of(it->second.slots.begin(), it->second.slots.end(),
                       [](const View::Slot &s) { return s.axis < 0; }))
        continue;
      out.slots = it->second.slots; // elementwise: the same axes at the same step
      return true;
    }
    if (derivedSlots(x, out, depthLimit - 1))
      return true;
  }
  return false;
}

void GradEqs::backwardViews(const Pair &p) {
  for (const Op *op : p.sweep) {
    if (op->results.size() != 1 || isTemp(op->result()) || R_.views.count(op->result()))
      continue;
    const Value *v = op->result();
    std::string name = displayName(v);
    View view;
    if (p.depth == 0) {
      R_.views[v] = View::identity(name, static_cast<int>(v->type.rank()));
      continue;
    }
    // In a loop body: gradients of the tensors at this step.
    if (R_.sliceView(*op, view)) {
      pureSlices_.insert(v);
      R_.views[v] = view;
      continue;
    }
    bool found = false;
    if (op->kind == OpKind::Add)
      for (const Value *t : terms(v))
        if (t->def && R_.sliceView(*t->def, view) && view.name == name) {
          found = true;
          break;
        }
    if (!found && p.fwdRec && name.rfind("grad.", 0) == 0) {
      auto &steps = stepViews_[p.fwdRec];
      auto it = steps.find(name.substr(5));
      if (it != steps.end() && it->second.slots.size() == v->type.shape.size() + 1) {
        view = it->second;
        found = true;
      }
    }
    if (!found && !derivedSlots(v, view, 8))
      view = View::identity(name, static_cast<int>(v->type.rank()));
    view.name = name;
    R_.views[v] = view;
  }
}

int GradEqs::inlineCost(const Value *v) const {
  if (!v->def || !v->def->backward || !isTemp(v) || R_.views.count(v) || originalOf_.count(v))
    return 0; // read by name
  const Op &op = *v->def;
  int cost = 0;
  switch (op.opClass()) {
  case OpClass::Leaf:
    return 0;
  case OpClass::Remap:
    break;
  case OpClass::Unary:
  case OpClass::Binary:
  case OpClass::Ternary:
    cost = 1;
    break;
  default:
    return 100; // sums and statements: worth a name when shared
  }
  for (const Value *x : op.operands)
    cost += inlineCost(x);
  return std::min(cost, 100);
}

void GradEqs::decideMaterialized(const Pair &p) {
  std::vector<const Value *> mine;
  for (const Op *op : p.sweep) {
    if (op->results.size() != 1 || op->kind == OpKind::Recurrence)
      continue;
    const Value *v = op->result();
    if (recOperands_.count(v) && isZero(v))
      continue; // a loop's storage starts at zero anyway
    // A broadcast or one operator reads better repeated than named.
    bool shared = uses_[v] > 1 && inlineCost(v) > 1;
    if (!isTemp(v) || shared || crossRegion_.count(v) || recOperands_.count(v)) {
      materialized_.insert(v);
      mine.push_back(v);
    }
  }
  // A statement (X[map] += ...) used once to add into a gradient is shown
  // adding into that gradient; any other statement needs a name of its own.
  auto absorb = [&](const Value *t) {
    if (t->def && t->def->backward && uses_[t] == 1 && R_.isStatement(*t->def) &&
        !materialized_.count(t))
      absorbed_.insert(t);
  };
  for (const Value *v : mine)
    if (v->def->kind == OpKind::Add)
      for (const Value *t : terms(v))
        absorb(t);
  if (p.bwdRec)
    for (auto &op : p.bwdRec->body->ops)
      if (op->kind == OpKind::Yield)
        for (size_t j = 0; j < op->operands.size(); ++j)
          if (op->yields[j].accumulate)
            absorb(op->operands[j]);
  for (const Op *op : p.sweep)
    if (op->results.size() == 1 && R_.isStatement(*op) && !absorbed_.count(op->result()) &&
        !materialized_.count(op->result())) {
      materialized_.insert(op->result());
      mine.push_back(op->result());
    }
  // Temporaries shared by several lines: δ<tensor of their equation>.
  for (const Value *v : mine) {
    if (!isTemp(v) || R_.views.count(v))
      continue;
    int block = p.blockOf.count(v->def) ? p.blockOf.at(v->def) : -1;
    std::string base = "δ";
    if (block >= 0 && !p.segments[block].tensors.empty())
      base += p.segments[block].tensors[0];
    int n = ++deltaNames_[base];
    View view;
    if (p.depth == 0 || !derivedSlots(v, view, 8))
      view = View::identity("", static_cast<int>(v->type.rank()));
    view.name = n == 1 ? base : base + "." + std::to_string(n);
    R_.views[v] = view;
  }
}

} // namespace gradc::notation
