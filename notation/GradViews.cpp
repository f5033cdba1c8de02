//===- notation/GradViews.cpp - How each value of the display reads --------===//
//
// Forward values and named gradients read by name, through a View that
// undoes extended storage (ir/Graph.h): `%h.ext[d0, %t, r0]` with offset 1
// is h[b,t-1,i]. A step's values read as their tensor at step t; a loop's
// storage nested in another's as a slice of the outer one. Backward
// temporaries used once are inlined into the expression that uses them;
// those several lines share (unless a broadcast or one operator) get a
// line of their own and a name, δ<tensor of their equation>.
//
//===----------------------------------------------------------------------===//
#include "notation/GradEqsImpl.h"

#include <algorithm>
#include <cctype>

namespace gradc::notation {

using namespace ir;

//===----------------------------------------------------------------------===//
// Views of forward values and of recurrence storage
//===----------------------------------------------------------------------===//

void GradEqs::recurrenceViews(const Op &rec) {
  for (size_t i = 0; i < rec.carried.size(); ++i) {
    const CarriedInfo &ci = rec.carried[i];
    const Value *arg = rec.body->args[i + 1];
    const Value *init = rec.operands[i];
    std::string name = src_.tensorFor(arg->name);
    if (name.empty())
      name = src_.tensorFor(rec.results[i]->name);
    if (name.empty())
      name = arg->name;
    View base = View::identity(name, static_cast<int>(arg->type.rank()));
    // A loop's accumulator for a value it reads (grad.W.sum, grad.h.ext.sum)
    // is that value's gradient, laid out as the value is.
    size_t sum = arg->name.rfind(".sum");
    bool accumulator = ci.axis < 0 && arg->name.rfind("grad.", 0) == 0 &&
                       sum != std::string::npos && sum > 5 &&
                       std::all_of(arg->name.begin() + sum + 4, arg->name.end(),
                                   [](char c) { return c == '.' || std::isdigit(c); });
    if (accumulator) {
      const Value *read = g_.findValue(arg->name.substr(5, sum - 5));
      auto rv = read ? R_.views.find(read) : R_.views.end();
      if (rv != R_.views.end() &&
          rv->second.slots.size() == static_cast<size_t>(arg->type.rank()) &&
          !rv->second.sliced()) {
        base = rv->second;
        base.name = "grad." + rv->second.name;
      }
    }
    // An inner loop's storage is a slice of the outer loop's at its step,
    // which is extended along this loop's axis too: extend the outer views
    // (once for all copies of the loop), then take the slice.
    View slice;
    if (ci.axis >= 0 && init->def && R_.sliceView(*init->def, slice) && slice.sliced()) {
      for (size_t p = 0; p < slice.slots.size(); ++p)
        if (slice.slots[p].axis == ci.axis)
          extendOuter(init->def->operand(0), static_cast<int>(p), ci.offset);
      R_.sliceView(*init->def, slice); // again, from the extended outer view
      base = slice;
      if (init->def->backward && !isTemp(init))
        pureSlices_.insert(init);
      R_.views[init] = slice;
    } else {
      for (View::Slot &s : base.slots)
        if (ci.axis >= 0 && s.axis == ci.axis)
          s.shift -= ci.offset;
    }
    R_.views[rec.results[i]] = base;
    R_.views[arg] = base;
    storageOf_[rec.results[i]] = {&rec, static_cast<int>(i)};
    storageOf_[arg] = {&rec, static_cast<int>(i)};
    // The initial storage a backward loop starts from reads as the gradient.
    if (init->def && init->def->parent == rec.parent && !isLeaf(*init->def) && !isZero(init) &&
        !R_.views.count(init))
      R_.views[init] = base;
  }
}

void GradEqs::extendOuter(const Value *storage, int slot, int64_t offset) {
  auto it = storageOf_.find(storage);
  if (it == storageOf_.end() ||
      !shifted_.insert({it->second.first, it->second.second, slot}).second)
    return;
  const Op &outer = *it->second.first;
  int i = it->second.second;
  const Value *family[] = {outer.results[i], outer.body->args[i + 1], outer.operands[i]};
  for (const Value *v : family) {
    auto view = R_.views.find(v);
    if (view != R_.views.end() && slot < static_cast<int>(view->second.slots.size()))
      view->second.slots[slot].shift -= offset;
  }
}

void GradEqs::forwardViews(const Region &r, int depth) {
  for (auto &op : r.ops) {
    if (isLeaf(*op)) {
      R_.views[op->result()] =
          View::identity(op->name, static_cast<int>(op->result()->type.rank()));
    } else if (op->kind == OpKind::Recurrence) {
      R_.depthOf[op->body->args[0]] = depth;
      recurrenceViews(*op);
      if (setsSteps(*op)) // a recomputed copy reads these where the loop read its args
        for (size_t i = 0; i < op->results.size(); ++i)
          argOfResult_[op->results[i]] = op->body->args[i + 1];
      forwardViews(*op->body, depth + 1);
    } else if (!op->backward && !r.parentOp && op->results.size() == 1 && !isTemp(op->result())) {
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
      step.slots.push_back(a == axis
                               ? View::Slot{-1, Affine{0, {{Affine::symbolVar(depth - 1), 1}}}, 0}
                               : View::Slot{k++, {}, 0});
    record(v, step);
  }
}

//===----------------------------------------------------------------------===//
// How backward values read
//===----------------------------------------------------------------------===//

std::vector<const Value *> GradEqs::terms(const Value *root) const {
  std::vector<const Value *> out;
  std::vector<const Value *> pending(root->def->operands.rbegin(), root->def->operands.rend());
  while (!pending.empty()) {
    const Value *v = pending.back();
    pending.pop_back();
    // Partial sums of one gradient are one-use temporaries in its region.
    bool partial = v->def && v->def->kind == OpKind::Add && v->def->backward && isTemp(v) &&
                   uses_.at(v) == 1 && !crossRegion_.count(v) && !recOperands_.count(v) &&
                   v->def->parent == root->def->parent;
    if (partial)
      pending.insert(pending.end(), v->def->operands.rbegin(), v->def->operands.rend());
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
      if (!it->second.sliced())
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
  case OpClass::Contract: { // a product that sums nothing is one operator
    std::vector<int> solved;
    bool sums = op.outMap.empty()
                    ? !op.reductionSizes.empty()
                    : !R_.invertible(op, solved) || solved.size() < op.reductionSizes.size();
    if (sums)
      return 100;
    cost = 1;
    break;
  }
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
  for (const Value *v : mine)
    if (isTemp(v) && !R_.views.count(v))
      nameDelta(p, v);
}

void GradEqs::nameDelta(const Pair &p, const Value *v) {
  // A temporary with a line of its own: δ<tensor of its equation>.
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
  materialized_.insert(v);
}

} // namespace gradc::notation
