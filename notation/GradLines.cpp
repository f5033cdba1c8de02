//===- notation/GradLines.cpp - Lines of the backward pass, and printing --===//
//
// Every backward value with a name (grad.W, δo) gets a line defining it at
// the op that computes it. A gradient that sums contributions from several
// equations is shown as one `+=` line per contribution, each under the
// equation it comes from; inside a backward loop, a tensor's gradient at
// step t is what earlier-processed steps added (the slice the loop reads)
// plus this step's contributions, so it too is a series of `+=` lines. A
// backward loop's yields are the contributions to other steps and to the
// weights: `grad.h[b,t-1,i] += ...`, `grad.W[j,i] += ...`.
//
//===----------------------------------------------------------------------===//
#include "notation/GradEqsImpl.h"
#include "notation/GradEquations.h"

#include <algorithm>

namespace gradc::notation {

using namespace ir;

namespace {

bool sameSlots(const View &a, const View &b) {
  if (a.name != b.name || a.slots.size() != b.slots.size())
    return false;
  for (size_t i = 0; i < a.slots.size(); ++i)
    if (a.slots[i].axis != b.slots[i].axis || !(a.slots[i].fixed == b.slots[i].fixed) ||
        a.slots[i].shift != b.slots[i].shift)
      return false;
  return true;
}

std::string padTo(std::string s, size_t column) {
  // Column in characters: count UTF-8 lead bytes only.
  size_t width = 0;
  for (char c : s)
    width += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  s += std::string(width + 2 < column ? column - width : 2, ' ');
  return s;
}

} // namespace

int GradEqs::placeOf(const Pair &p, const Value *v, int fallback, const std::string &target) const {
  auto own = v->def ? p.blockOf.find(v->def) : p.blockOf.end();
  if (!materialized_.count(v))
    return own != p.blockOf.end() ? own->second : fallback;
  // A gradient with a line of its own, added unchanged into `target`: the
  // adjoint of a sum a + b flows into a and b as it is. That happened in the
  // equation holding a forward + (or -) that reads the target's tensor and
  // whose result or other operand the gradient is named after.
  auto strip = [](const std::string &n) { return n.rfind("grad.", 0) == 0 ? n.substr(5) : n; };
  std::string gradOf = strip(displayName(v)), receiver = strip(target);
  auto tensorOf = [&](const Value *u) -> std::string {
    auto it = R_.views.find(u);
    if (it != R_.views.end())
      return it->second.name;
    // A read of another step (h[l-1]) stands for that tensor too.
    if (u->def && u->def->kind == OpKind::Remap) {
      auto src = R_.views.find(u->def->operand(0));
      if (src != R_.views.end())
        return src->second.name;
    }
    return "";
  };
  for (auto it = p.fwdOps.rbegin(); it != p.fwdOps.rend(); ++it) {
    const Op &f = **it;
    if (f.kind != OpKind::Add && f.kind != OpKind::Sub)
      continue;
    bool reads = false, named = tensorOf(f.result()) == gradOf;
    for (const Value *u : f.operands) {
      std::string t = tensorOf(u);
      reads = reads || t == receiver;
      named = named || t == gradOf;
    }
    if (reads && named)
      return p.segmentOf.at(&f);
  }
  return own != p.blockOf.end() ? own->second : fallback;
}

std::vector<int64_t> GradEqs::ownExtents(const View &target, const Value *shapeOf) const {
  std::string tensor = target.name.rfind("grad.", 0) == 0 ? target.name.substr(5) : target.name;
  bool known = src_.rankOf(tensor) == static_cast<int>(target.slots.size());
  std::vector<int64_t> sizes(target.slots.size(), 0);
  for (size_t p = 0; p < sizes.size(); ++p) {
    const View::Slot &s = target.slots[p];
    if (s.axis < 0)
      continue;
    sizes[p] = shapeOf->type.shape[s.axis] + std::min<int64_t>(s.shift, 0);
    if (known)
      sizes[p] = std::min(sizes[p], src_.extentOf(tensor, static_cast<int>(p)));
  }
  return sizes;
}

std::vector<std::vector<int64_t>> GradEqs::boundaryOf(const View &target, const Value *shapeOf,
                                                      const Value *rhs) const {
  std::vector<int64_t> sizes = ownExtents(target, shapeOf);
  std::vector<std::vector<int64_t>> boundary(target.slots.size());
  for (size_t p = 0; p < sizes.size(); ++p) {
    const View::Slot &s = target.slots[p];
    for (int64_t q = 0; s.axis >= 0 && q < shapeOf->type.shape[s.axis]; ++q)
      if ((q + s.shift < 0 || q + s.shift >= sizes[p]) && !R_.zeroAt(rhs, s.axis, q))
        boundary[p].push_back(q);
  }
  return boundary;
}

void GradEqs::defineLine(int pair, int block, const View &target, const Value *shapeOf,
                         bool accumulate, const Value *rhs, bool ownOp) {
  // Each target axis runs over the tensor's own positions (a variable); the
  // boundary positions its storage adds before (or, for a loop running
  // backwards, after) them get lines of their own, with the position as a
  // constant, where the value there may be nonzero: grad.h[b,-1,j] += ...
  size_t n = target.slots.size();
  std::vector<int64_t> sizes = ownExtents(target, shapeOf);
  std::vector<std::vector<int64_t>> boundary = boundaryOf(target, shapeOf, rhs);
  // choice[p]: -1 for the variable, else the boundary position's index.
  std::vector<int> choice(n, -1);
  while (true) {
    Line L;
    L.target = target.name;
    L.accumulate = accumulate;
    std::vector<DIndex> valueAt(shapeOf->type.rank());
    for (size_t p = 0; p < n; ++p) {
      const View::Slot &s = target.slots[p];
      if (s.axis < 0) {
        std::vector<DIndex> none;
        View fixed{target.name, {s}};
        L.at.push_back(R_.logical(L, fixed, none)[0]);
        continue;
      }
      DIndex u = choice[p] >= 0  ? DIndex::of(boundary[p][choice[p]] + s.shift)
                 : sizes[p] == 1 ? DIndex::of(0)
                                 : DIndex::var(L.newVar(sizes[p]));
      L.at.push_back(u);
      valueAt[s.axis] = u.plus(DIndex::of(-s.shift));
    }
    DExprPtr e = ownOp ? R_.definition(L, rhs, valueAt) : R_.value(L, rhs, valueAt);
    L.rhs = markImplicitSums(e);
    lines_.push_back(std::move(L));
    pairs_[pair]->items[block].push_back({static_cast<int>(lines_.size()) - 1, -1});
    size_t p = 0; // next combination of positions
    for (; p < n; ++p) {
      if (++choice[p] < static_cast<int>(boundary[p].size()))
        break;
      choice[p] = -1;
    }
    if (p == n)
      return;
  }
}

void GradEqs::zeroLine(int pair, int block, const View &target, const Value *shapeOf) {
  Line L;
  L.target = target.name;
  for (const View::Slot &s : target.slots)
    L.at.push_back(
        shapeOf->type.shape[s.axis] == 1
            ? DIndex::of(s.shift)
            : DIndex::var(L.newVar(shapeOf->type.shape[s.axis])).plus(DIndex::of(s.shift)));
  L.rhs = number(0);
  lines_.push_back(std::move(L));
  pairs_[pair]->items[block].push_back({static_cast<int>(lines_.size()) - 1, -1});
}

void GradEqs::statementLine(int pair, int block, const Op &op, const View &target) {
  Line L;
  L.target = target.name;
  L.accumulate = true;
  std::vector<DIndex> written;
  L.rhs = markImplicitSums(R_.statement(L, op, written));
  L.at = R_.logical(L, target, written);
  lines_.push_back(std::move(L));
  pairs_[pair]->items[block].push_back({static_cast<int>(lines_.size()) - 1, -1});
}

void GradEqs::chainLines(int pair, const Value *root) {
  Pair &p = *pairs_[pair];
  const View &view = R_.views.at(root);
  int rootBlock = p.blockOf.at(root->def);
  bool accumulating = false;
  std::vector<const Value *> rest;
  for (const Value *t : terms(root)) {
    View slice;
    // What earlier steps added to this gradient at t: the line adds to it.
    if (t->def && R_.sliceView(*t->def, slice) && sameSlots(slice, view)) {
      accumulating = true;
      continue;
    }
    // A backward loop's sum into this gradient: its lines say so already.
    auto tv = R_.views.find(t);
    if (t->def && t->def->kind == OpKind::Recurrence && tv != R_.views.end() &&
        tv->second.name == view.name) {
      accumulating = true;
      continue;
    }
    rest.push_back(t);
  }
  // One line `X = a + b` when the terms come from one equation and reach
  // the same positions; terms that also reach a boundary position the
  // others do not (a read of h[t-1] reaching h[-1]) read better apart.
  std::vector<int> blocks;
  bool oneLine = !accumulating;
  for (const Value *t : rest) {
    blocks.push_back(placeOf(p, t, rootBlock, view.name));
    oneLine = oneLine && blocks.back() == blocks.front() && !absorbed_.count(t) &&
              boundaryOf(view, root, t) == boundaryOf(view, root, rest.front());
  }
  if (oneLine && !rest.empty()) {
    defineLine(pair, blocks.front(), view, root, false, root, true);
    return;
  }
  bool acc = accumulating || rest.size() > 1;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (absorbed_.count(rest[i]))
      statementLine(pair, blocks[i], *rest[i]->def, view);
    else
      defineLine(pair, blocks[i], view, root, acc, rest[i], false);
  }
}

void GradEqs::yieldLines(int pair) {
  Pair &p = *pairs_[pair];
  const Op *yield = nullptr;
  for (auto &op : p.bwdRec->body->ops)
    if (op->kind == OpKind::Yield)
      yield = op.get();
  if (!yield)
    return;
  for (size_t j = 0; j < yield->operands.size(); ++j) {
    const YieldInfo &yi = yield->yields[j];
    const CarriedInfo &ci = p.bwdRec->carried[yi.carried];
    const Value *u = yield->operands[j];
    // Setting a consumed slice back to zero is bookkeeping of the loop.
    if (!yi.accumulate && u->def && u->def->kind == OpKind::Constant && u->def->value == 0)
      continue;
    View target = R_.views.at(p.bwdRec->body->args[yi.carried + 1]);
    // An inner loop's storage of this gradient handed back to the outer
    // loop's: the inner loop's lines added to the gradient already.
    auto uv = R_.views.find(u);
    if (u->def && u->def->kind == OpKind::Recurrence && uv != R_.views.end() &&
        uv->second.name == target.name)
      continue;
    if (!yi.whole && ci.axis >= 0)
      for (View::Slot &s : target.slots) {
        if (s.axis == ci.axis) {
          s.axis = -1;
          s.fixed = Affine{ci.offset + yi.delta, {{Affine::symbolVar(p.depth - 1), 1}}};
        } else if (s.axis > ci.axis) {
          --s.axis;
        }
      }
    int block = placeOf(p, u, -1, target.name);
    if (absorbed_.count(u))
      statementLine(pair, block, *u->def, target);
    else
      defineLine(pair, block, target, u, yi.accumulate, u, false);
  }
}

std::string GradEqs::stepName(const Pair &p) {
  const Op &rec = p.fwdRec ? *p.fwdRec : *p.bwdRec;
  std::vector<std::pair<std::string, int>> votes;
  for (size_t i = 0; i < rec.carried.size(); ++i) {
    if (rec.carried[i].axis < 0)
      continue;
    // The tensor's axis the loop runs along (an inner loop's storage is a
    // slice of the tensor: its axes are not the tensor's).
    const View &view = R_.views.at(rec.body->args[i + 1]);
    std::string t = view.name.rfind("grad.", 0) == 0 ? view.name.substr(5) : view.name;
    for (size_t a = 0; a < view.slots.size(); ++a)
      if (view.slots[a].axis == rec.carried[i].axis)
        src_.votes(-1, t, static_cast<int>(a), nullptr, votes);
  }
  auto usable = [&](const std::string &n) {
    return !n.empty() && !src_.reserved(n) &&
           std::find(R_.loopNames.begin(), R_.loopNames.end(), n) == R_.loopNames.end();
  };
  std::map<std::string, int> score;
  std::string best;
  for (auto &[n, w] : votes)
    if (usable(n) && (score[n] += w) > (best.empty() ? 0 : score[best]))
      best = n;
  if (best.empty() && usable(src_.dimName(rec.steps)))
    best = src_.dimName(rec.steps);
  for (int k = 1; best.empty(); ++k)
    if (usable(k == 1 ? "t" : "t" + std::to_string(k)))
      best = k == 1 ? "t" : "t" + std::to_string(k);
  return best;
}

void GradEqs::buildLines(int pair) {
  Pair &p = *pairs_[pair];
  if (p.bwdRec) {
    p.stepName = stepName(p);
    R_.loopSteps.push_back(p.bwdRec->steps);
    R_.loopNames.push_back(p.stepName);
  }
  for (const Op *op : p.sweep) {
    int block = p.blockOf.at(op);
    if (op->kind == OpKind::Recurrence) {
      // Initial storage that is not already the gradient's own line.
      for (size_t i = 0; i < op->operands.size(); ++i) {
        const Value *init = op->operands[i];
        const View &carried = R_.views.at(op->body->args[i + 1]);
        auto iv = R_.views.find(init);
        bool zero = init->def && init->def->kind == OpKind::Constant && init->def->value == 0;
        if (!zero && (iv == R_.views.end() || iv->second.name != carried.name))
          defineLine(pair, block, carried, init, false, init, false);
      }
      p.items[block].push_back({-1, p.loops.at(op)});
      buildLines(p.loops.at(op));
      continue;
    }
    if (op->results.size() != 1 || !materialized_.count(op->result()) ||
        pureSlices_.count(op->result()))
      continue;
    const Value *v = op->result();
    if (op->kind == OpKind::Add) {
      chainLines(pair, v);
    } else if (R_.isStatement(*op)) {
      // A scatter starts from 0; in a loop, a tensor that is not per step
      // would otherwise keep the previous step's sums.
      const View &view = R_.views.at(v);
      if (p.depth > 0 && !view.sliced())
        zeroLine(pair, block, view, v);
      statementLine(pair, block, *op, view);
    } else
      defineLine(pair, block, R_.views.at(v), v, false, v, true);
  }
  if (p.bwdRec) {
    yieldLines(pair);
    R_.loopSteps.pop_back();
    R_.loopNames.pop_back();
    return;
  }
  // Parameters whose gradient is a value shown under another name (in
  // (w1 + w2)*x both get the sum's gradient): say so where it completes.
  for (const NamedValue &gr : g_.gradients) {
    auto view = R_.views.find(gr.value);
    if (view == R_.views.end() || view->second.name == gr.name)
      continue;
    int block = gr.value->def && p.blockOf.count(gr.value->def) ? p.blockOf.at(gr.value->def) : -1;
    defineLine(pair, block, View::identity(gr.name, static_cast<int>(gr.value->type.rank())),
               gr.value, false, gr.value, false);
  }
}

//===----------------------------------------------------------------------===//
// Printing
//===----------------------------------------------------------------------===//

std::string GradEqs::blockHeader(const Pair &p, int segment) const {
  if (segment < 0) {
    if (p.depth > 0 || !g_.loss.value || !g_.loss.loc.valid())
      return "";
    return padTo(src_.statementAt(g_.loss.loc), 60) + "# " + src_.where(g_.loss.loc);
  }
  const Segment &s = p.segments[segment];
  if (s.kind == Segment::Equation) {
    SourceLoc at = src_.equationLoc(s.eq);
    auto shown = [&](const std::string &t) { return shownNames_.count(t) > 0; };
    return padTo(src_.header(s.eq, shown), 60) + "# " + src_.where(at);
  }
  if (!s.first || !s.first->loc.valid())
    return s.tensors.empty() ? "(unnamed forward ops)" : s.tensors[0];
  return padTo(src_.statementAt(s.first->loc), 60) + "# " + src_.where(s.first->loc);
}

void GradEqs::printLineAt(int pair, int segment, int line, int indent, std::string &out) {
  const Pair &p = *pairs_[pair];
  int eq = segment >= 0 ? p.segments[segment].eq : -1;
  Line &L = lines_[line];
  auto votes = [&](const std::string &tensor, int axis, const Offsets &offsets,
                   std::vector<std::pair<std::string, int>> &got) {
    auto local = localNames_.find({tensor, axis});
    if (local != localNames_.end())
      got.push_back({local->second, 8});
    std::string base = tensor.rfind("grad.", 0) == 0 ? tensor.substr(5) : tensor;
    // The block's own equation speaks first; the others break ties.
    std::vector<std::pair<std::string, int>> own, all;
    if (eq >= 0)
      src_.votes(eq, base, axis, &offsets, own);
    src_.votes(-1, base, axis, &offsets, all);
    for (auto &[n, w] : own)
      got.push_back({n, 3 * w});
    got.insert(got.end(), all.begin(), all.end());
  };
  auto fallback = [&](int64_t size) {
    std::string d = src_.dimName(size);
    return src_.reserved(d) ? std::string() : d;
  };
  nameLine(L, votes, fallback, [&](const std::string &n) { return src_.reserved(n); });
  // Later lines reading a δ use the names its defining line chose.
  if (L.target.rfind("δ", 0) == 0 && !L.accumulate)
    for (size_t a = 0; a < L.at.size(); ++a) {
      int v;
      int64_t off;
      if (L.at[a].isVar(v, off))
        localNames_[{L.target, static_cast<int>(a)}] = L.vars[v].name;
    }
  out += std::string(indent, ' ') + printLine(L) + "\n";
}

std::vector<int> GradEqs::blockOrder(const Pair &p) const {
  std::vector<int> order{-1};
  for (int s = static_cast<int>(p.segments.size()) - 1; s >= 0; --s)
    if (p.segments[s].kind != Segment::Leaf)
      order.push_back(s);
  for (int s = 0; s < static_cast<int>(p.segments.size()); ++s)
    if (p.segments[s].kind == Segment::Leaf)
      order.push_back(s);
  return order;
}

std::vector<GradItem> GradEqs::items(int pair) const {
  const Pair &p = *pairs_[pair];
  std::vector<GradItem> out;
  for (int s : blockOrder(p)) {
    auto it = p.items.find(s);
    if (it == p.items.end())
      continue;
    for (const Item &item : it->second) {
      GradItem g;
      if (item.line >= 0) {
        g.line = lines_[item.line];
      } else {
        const Pair &child = *pairs_[item.loop];
        g.loop = true;
        g.steps = child.bwdRec->steps;
        g.reverse = child.bwdRec->reverse;
        g.depth = child.depth - 1;
        g.body = items(item.loop);
      }
      out.push_back(std::move(g));
    }
  }
  return out;
}

void GradEqs::printPair(int pair, int indent, std::string &out) {
  const Pair &p = *pairs_[pair];
  bool unusedShown = false;
  for (int s : blockOrder(p)) {
    auto it = p.items.find(s);
    if (it == p.items.end() || it->second.empty())
      continue;
    bool group = s >= 0 && p.segments[s].kind == Segment::Group;
    bool leaf = s >= 0 && p.segments[s].kind == Segment::Leaf;
    int inner = indent;
    if (leaf) {
      if (!unusedShown)
        out += std::string(indent, ' ') + "# parameters the loss does not depend on\n";
      unusedShown = true;
      inner = indent + 2;
    } else if (!group) {
      std::string h = blockHeader(p, s);
      if (!h.empty()) {
        out += std::string(indent, ' ') + h + "\n";
        inner = indent + 2;
      }
    }
    for (const Item &item : it->second) {
      if (item.line >= 0) {
        printLineAt(pair, s, item.line, inner, out);
        continue;
      }
      const Pair &child = *pairs_[item.loop];
      const Op &br = *child.bwdRec;
      const std::string &t = child.stepName;
      std::string steps = br.steps == 1   ? "0"
                          : br.steps == 2 ? (br.reverse ? "1, 0" : "0, 1")
                          : br.reverse    ? std::to_string(br.steps - 1) + ", " +
                                             std::to_string(br.steps - 2) + ", ..., 0"
                                       : "0, 1, ..., " + std::to_string(br.steps - 1);
      std::string what = "backpropagation through the recurrence";
      if (group) {
        std::vector<std::string> tensors = p.segments[s].tensors;
        if (!tensors.empty() && !src_.recurrenceGroup(tensors[0]).empty())
          tensors = src_.recurrenceGroup(tensors[0]); // the gates too, not just what it stores
        what += " of ";
        for (size_t k = 0; k < tensors.size(); ++k)
          what += (k ? ", " : "") + tensors[k];
      }
      if (br.loc.valid())
        what += " (" + src_.where(br.loc) + ")";
      out += std::string(inner, ' ') + padTo("for " + t + " = " + steps + ":", 60) + "# " + what +
             "\n";
      printPair(item.loop, inner + 2, out);
    }
    if (p.depth == 0 && !leaf) // the unused parameters stay one block
      out += "\n";
  }
}

std::string GradEqs::run() {
  countUses(g_.top);
  forwardViews(g_.top, 0);
  int top = buildPair(0, nullptr, nullptr);
  for (auto &p : pairs_)
    backwardViews(*p);
  for (auto &p : pairs_)
    decideMaterialized(*p);
  // A temporary shown inline where the IR reads it outside its shape (as
  // 0) gets a line of its own, so that reading it there reads 0 as well.
  for (int round = 0; round < 8; ++round) {
    R_.readOutside.clear();
    buildLines(top);
    std::vector<const Value *> named;
    for (const Value *v : R_.readOutside)
      if (v->def && v->def->backward && pairOf_.count(v->def) && !materialized_.count(v))
        named.push_back(v);
    if (named.empty())
      break;
    for (const Value *v : named)
      nameDelta(*pairs_[pairOf_.at(v->def)], v);
    lines_.clear();
    for (auto &p : pairs_)
      p->items.clear();
  }
  for (auto &[v, view] : R_.views)
    shownNames_.insert(view.name);

  std::string out;
  out += "# The backward pass of model " + g_.modelName +
         ", as equations in the model's notation: the\n"
         "# gradient of the loss with respect to every parameter. Each forward equation,\n"
         "# from the last to the first, is followed by the gradient equations it gives.\n"
         "# grad.X is the gradient of the loss with respect to X: it starts at 0, and +=\n"
         "# adds a contribution; an index that appears only on the right side is summed.\n"
         "# δX names a gradient several lines of X's equation share. In a loop over t,\n"
         "# grad.X[..t..] is complete when step t runs: the steps after t ran before it.\n\n";
  printPair(top, 0, out);
  while (out.size() > 1 && out[out.size() - 1] == '\n' && out[out.size() - 2] == '\n')
    out.pop_back();
  return out;
}

std::string printGradEquations(const Graph &g, const sema::Model &model, const SourceManager &sm) {
  return GradEqs(g, model, sm).run();
}

std::vector<GradItem> gradEquations(const Graph &g, const sema::Model &model,
                                    const SourceManager &sm) {
  GradEqs eqs(g, model, sm);
  eqs.run(); // names the variables as printed
  return eqs.items();
}

} // namespace gradc::notation
