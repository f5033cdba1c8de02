//===- passes/Remat.cpp - Checkpointed recurrences (--remat) ---------------===//
//
// A recurrence R over T steps carries tensors C_i in extended storage: every
// step's value stays in memory, and autodiff's reversed loop reads them all
// back. When step t reads C_i only at t-1 .. t-w_i (t+1 .. t+w_i for a loop
// that runs backwards), the steps can instead run in S segments of K ≈ √T:
//
//   O: for s in segments            carries P_i[s]: the window of w_i
//        buf_i = window P_i[s]                        positions a segment
//        I: for k in 0..K             carries buf_i   starts from
//             the body of R, with t = base + s·K + k, reading buf_i
//        P_i[s+1] = the last w_i positions of buf_i
//        E_i[s]   = the K positions of buf_i          (only when C_i is
//                                                       read outside R)
//   C_i = C_i(initial) + E_i placed at t = base + s·K + k
//
// Only the checkpoints P_i (S windows) and the tensors the model reads
// outside the loop (E_i) live at the top level; a segment's buffer lives in
// O's body. Autodiff needs no special case: reversing O recomputes each
// segment from its checkpoint, and the nested reversal of I sweeps it back.
// When K does not divide T, the T mod K steps executed first form one more
// segment group of a single segment, chained to the main one by its window.
//
//===----------------------------------------------------------------------===//
#include "passes/Remat.h"

#include "passes/ComposeRemaps.h"

#include "ir/Builder.h"
#include "ir/Rewrite.h"
#include "support/Assert.h"

#include <cmath>
#include <functional>

namespace gradc::passes {

using namespace ir;

namespace {

struct CarriedPlan {
  int64_t window = 0;   ///< w: how many steps back (or ahead) the body reads
  bool exposed = false; ///< read outside the loop: every step is kept
  bool tail = false;    ///< read outside only within the final window
  /// Read outside only at positions no step writes (boundary values, or
  /// past the end): the initial tensor serves those reads.
  bool initialOnly = false;
  int slice = -1;       ///< the yield operand that writes it
};

/// Index of `v` in op.symbols, or -1.
int symbolIndex(const Op &op, const Value *v) {
  for (size_t j = 0; j < op.symbols.size(); ++j)
    if (op.symbols[j] == v)
      return static_cast<int>(j);
  return -1;
}

/// The index map through which `op` reads its operand `p`, or null when it
/// reads the whole tensor (elementwise ops, reductions, a yield, ...).
IndexMap *readMap(Op &op, size_t p) {
  if (op.kind == OpKind::Remap && p == 0)
    return &op.maps[0];
  if (op.kind == OpKind::Contract && p < op.maps.size())
    return &op.maps[p];
  return nullptr;
}

/// Checks that every read of the carried body argument `arg` in `r` is at
/// t + e along `axis` for a constant e on the already-written side of the
/// step's own position t + offset, and widens `window` to cover it.
bool boundedReads(Region &r, const Value *arg, const Value *t, int axis, int64_t offset,
                  bool reverse, int64_t &window) {
  for (auto &op : r.ops) {
    for (size_t p = 0; p < op->operands.size(); ++p) {
      if (op->operands[p] != arg)
        continue;
      IndexMap *m = readMap(*op, p);
      if (!m)
        return false;
      int jt = symbolIndex(*op, t);
      for (int a = 0; a < static_cast<int>(m->size()); ++a) {
        const AxisIndex &ax = (*m)[a];
        int64_t c = jt >= 0 ? ax.pos.coeff(Affine::symbolVar(jt)) : 0;
        if (a != axis) { // h[b, t-1, y[b]]: any position that does not move with t
          if (c != 0)
            return false;
          continue;
        }
        if (ax.isIndirect() || c != 1 || ax.pos.terms.size() != 1)
          return false;
        int64_t lag = ax.pos.constant - offset;
        if (reverse ? lag <= 0 : lag >= 0)
          return false;
        window = std::max(window, reverse ? lag : -lag);
      }
    }
    if (op->body && !boundedReads(*op->body, arg, t, axis, offset, reverse, window))
      return false;
  }
  return true;
}

bool namedOutput(const Graph &g, const Value *v) {
  if (g.loss.value == v)
    return true;
  for (auto *list : {&g.outputs, &g.metrics, &g.gradients})
    for (const NamedValue &n : *list)
      if (n.value == v)
        return true;
  for (const StateUpdate &u : g.updates)
    if (u.value == v)
      return true;
  return false;
}

/// How the rest of the graph reads R's carried tensor `i`: not at all
/// (returns 0), only at the last `need` positions written (a classifier
/// reading h[b, T-1, j]: returns need), only at positions no step writes
/// (returns -2), or anywhere (returns -1).
int64_t outsideNeed(const Graph &g, const Op &R, size_t i) {
  const Value *c = R.results[i];
  if (namedOutput(g, c))
    return -1;
  int axis = R.carried[i].axis;
  int64_t first = R.carried[i].offset, last = first + R.steps - 1; // written positions
  int64_t need = 0;
  bool anywhere = false, used = false;
  std::function<void(const Region &)> visit = [&](const Region &r) {
    for (auto &op : r.ops) {
      for (size_t p = 0; p < op->operands.size(); ++p) {
        if (op->operands[p] != c)
          continue;
        if (op->kind != OpKind::Remap || p != 0 || !op->symbols.empty() ||
            op->maps[0][axis].isIndirect()) {
          anywhere = true;
          continue;
        }
        used = true;
        auto [lo, hi] = affineRange(op->maps[0][axis].pos, op->result()->type.shape);
        lo = std::max(lo, first);
        hi = std::min(hi, last);
        if (lo <= hi) // reads positions the steps wrote
          need = std::max(need, R.reverse ? hi - first + 1 : last - lo + 1);
      }
      for (Value *v : op->symbols)
        anywhere = anywhere || v == c;
      if (op->body)
        visit(*op->body);
    }
  };
  visit(g.top);
  return anywhere ? -1 : need == 0 && used ? -2 : need;
}

/// The model's name for a carried tensor: "h" for its extended storage "h.ext".
std::string userName(const Value *v) {
  return v->name.substr(0, v->name.find(".ext"));
}

/// K, the steps per segment: about √T.
int64_t segmentLength(int64_t steps) {
  return static_cast<int64_t>(std::ceil(std::sqrt(static_cast<double>(steps))));
}

/// Decides whether R can be segmented; fills `plan` or says why not.
bool analyze(const Graph &g, Op &R, std::vector<CarriedPlan> &plan, std::string &why) {
  size_t nc = R.results.size();
  plan.assign(nc, {});
  if (R.steps < 4) {
    why = "it has fewer than 4 steps";
    return false;
  }
  Op *y = R.body->ops.empty() ? nullptr : R.body->ops.back().get();
  GRADC_ASSERT(y && y->kind == OpKind::Yield, "a recurrence body without a final yield");
  for (size_t j = 0; j < y->yields.size(); ++j) {
    const YieldInfo &yi = y->yields[j];
    if (yi.delta != 0 || yi.accumulate || yi.whole || plan[yi.carried].slice >= 0) {
      why = "a step writes other than one slice at its own position";
      return false;
    }
    plan[yi.carried].slice = static_cast<int>(j);
  }
  // Positions kept per carried tensor: T steps before, the checkpoint
  // windows after (and the T steps again for a tensor read all over).
  int64_t K = segmentLength(R.steps);
  int64_t windows = R.steps / K + (R.steps % K ? 1 : 0) + 1;
  double before = 0, after = 0;
  for (size_t i = 0; i < nc; ++i) {
    const Value *c = R.results[i];
    std::string name = userName(c);
    if (plan[i].slice < 0 || R.carried[i].axis < 0) {
      why = "'" + name + "' is not written one slice per step";
      return false;
    }
    if (c->type.dtype != DType::F32) {
      why = "it carries the int tensor '" + name + "'";
      return false;
    }
    if (!boundedReads(*R.body, R.body->args[i + 1], R.body->args[0], R.carried[i].axis,
                      R.carried[i].offset, R.reverse, plan[i].window)) {
      why = "a step reads '" + name + "' other than a fixed number of steps " +
            (R.reverse ? "ahead" : "back");
      return false;
    }
    if (plan[i].window > R.steps) {
      why = "a step reads '" + name + "' further back than the recurrence has steps";
      return false;
    }
    // Read outside at its last positions only: widen the window to them,
    // unless keeping every step costs less.
    int64_t need = outsideNeed(g, R, i), w = plan[i].window;
    plan[i].initialOnly = need == -2;
    if (need == -2)
      need = 0;
    plan[i].exposed = need < 0 || R.steps + windows * w <= windows * std::max(w, need);
    plan[i].tail = !plan[i].exposed && need > 0;
    if (plan[i].tail)
      plan[i].window = std::max(w, need);
    double slice = static_cast<double>(c->type.numElements()) /
                   static_cast<double>(c->type.shape[R.carried[i].axis]);
    before += slice * static_cast<double>(R.steps);
    after += slice * static_cast<double>((plan[i].exposed ? R.steps : 0) + windows * plan[i].window);
  }
  if (after >= before) {
    why = "the tensors it carries are read outside it at every step, so checkpoints would "
          "save nothing";
    return false;
  }
  return true;
}

std::vector<int64_t> withAxis(std::vector<int64_t> shape, int axis, int64_t len) {
  shape[axis] = len;
  return shape;
}

/// x's positions [start, start + len) along `axis`.
Value *slab(Builder &B, Value *x, int axis, int64_t start, int64_t len) {
  IndexMap m = identityMap(x->type.rank());
  m[axis].pos.constant = start;
  return B.remap(x, m, withAxis(x->type.shape, axis, len));
}

/// One group of S segments of K steps, the first at step `base`.
struct Group {
  int64_t base, S, K;
};

class Segmenter {
public:
  Segmenter(Graph &g, Op &R, std::vector<CarriedPlan> plan)
      : g_(g), B_(g), R_(R), plan_(std::move(plan)), fwd_(!R.reverse) {
    B_.setLoc(R.loc);
  }

  void run() {
    int64_t T = R_.steps;
    int64_t K = segmentLength(T);
    int64_t S = T / K, rest = T - S * K;
    std::vector<Group> groups;
    if (rest)
      groups.push_back({fwd_ ? 0 : S * K, 1, rest});
    groups.push_back({fwd_ ? rest : 0, S, K});
    segments_ = S + (rest ? 1 : 0);
    segmentLength_ = K;

    size_t nc = plan_.size();
    window_.assign(nc, nullptr);
    parts_.assign(nc, {});
    toTop();
    const Group &first = groups.front();
    for (size_t i = 0; i < nc; ++i) {
      int64_t w = plan_[i].window, o = R_.carried[i].offset;
      if (w > 0)
        window_[i] = slab(B_, R_.operands[i], R_.carried[i].axis,
                          fwd_ ? first.base + o - w : first.base + first.S * first.K + o, w);
    }
    for (const Group &grp : groups)
      runGroup(grp);
    for (size_t i = 0; i < nc; ++i) {
      if (plan_[i].initialOnly && !plan_[i].exposed)
        replaceAllUses(g_, R_.results[i], R_.operands[i]);
      if (!plan_[i].exposed && !plan_[i].tail)
        continue;
      Value *v = R_.operands[i];
      for (Value *part : parts_[i])
        v = B_.binary(OpKind::Add, v, part);
      if (plan_[i].tail) { // the final window back at its positions
        int64_t w = plan_[i].window, o = R_.carried[i].offset;
        IndexMap place = identityMap(v->type.rank());
        place[R_.carried[i].axis].pos.constant = fwd_ ? T + o - w : o;
        v = B_.binary(OpKind::Add, v, B_.scatterAdd(window_[i], place, v->type.shape));
      }
      std::string name = R_.results[i]->name;
      g_.rename(R_.results[i], name + ".unsegmented");
      B_.name(v, name);
      replaceAllUses(g_, R_.results[i], v);
    }
  }

  int64_t segments_ = 0, segmentLength_ = 0;

private:
  /// New ops go just before R at the top level.
  void toTop() {
    for (size_t i = 0; i < g_.top.ops.size(); ++i)
      if (g_.top.ops[i].get() == &R_) {
        B_.setInsertionPoint(&g_.top, i);
        return;
      }
    GRADC_ASSERT(false, "the recurrence being segmented is not at the top level");
  }

  void runGroup(const Group &grp) {
    size_t nc = plan_.size();
    // The outer loop over segments: checkpoints and exposed segments.
    std::vector<Value *> inits;
    std::vector<CarriedInfo> carried;
    std::vector<int> pIdx(nc, -1), eIdx(nc, -1);
    for (size_t i = 0; i < nc; ++i) {
      if (plan_[i].window == 0)
        continue;
      IndexMap m;
      m.push_back({Affine::constantOf(fwd_ ? 0 : grp.S), -1, {}});
      for (int a = 0; a < window_[i]->type.rank(); ++a)
        m.push_back({Affine::var(a), -1, {}});
      std::vector<int64_t> shape{grp.S + 1};
      for (int64_t d : window_[i]->type.shape)
        shape.push_back(d);
      pIdx[i] = static_cast<int>(inits.size());
      inits.push_back(B_.scatterAdd(window_[i], m, shape));
      B_.name(inits.back(), userName(R_.results[i]) + ".checkpoints");
      carried.push_back({0, fwd_ ? 1 : 0});
    }
    for (size_t i = 0; i < nc; ++i) {
      if (!plan_[i].exposed)
        continue;
      std::vector<int64_t> shape{grp.S};
      for (int64_t d : withAxis(R_.results[i]->type.shape, R_.carried[i].axis, grp.K))
        shape.push_back(d);
      eIdx[i] = static_cast<int>(inits.size());
      inits.push_back(B_.constant(0.0, shape));
      B_.name(inits.back(), userName(R_.results[i]) + ".segments");
      carried.push_back({0, 0});
    }
    Op *O = B_.recurrence(inits, carried, grp.S, R_.reverse);
    B_.name(O->body->args[0], "s");
    Value *s = O->body->args[0];
    B_.setRegion(O->body.get());

    // The segment buffers, starting from the checkpoint windows.
    std::vector<Value *> binits;
    std::vector<CarriedInfo> bcarried;
    for (size_t i = 0; i < nc; ++i) {
      int axis = R_.carried[i].axis;
      int64_t w = plan_[i].window;
      std::vector<int64_t> bufShape = withAxis(R_.results[i]->type.shape, axis, grp.K + w);
      Value *init;
      if (w > 0) {
        Value *P = O->body->args[pIdx[i] + 1];
        IndexMap m = identityMap(P->type.rank() - 1);
        m.insert(m.begin(), {Affine{fwd_ ? 0 : 1, {{Affine::symbolVar(0), 1}}}, -1, {}});
        Value *cur = B_.remap(P, m, window_[i]->type.shape, {}, {s});
        IndexMap place = identityMap(cur->type.rank());
        place[axis].pos.constant = fwd_ ? 0 : grp.K;
        init = B_.scatterAdd(cur, place, bufShape);
      } else {
        init = B_.constant(0.0, bufShape);
      }
      B_.name(init, userName(R_.results[i]) + ".segment");
      binits.push_back(init);
      bcarried.push_back({axis, fwd_ ? w : 0});
    }
    Op *I = B_.recurrence(binits, bcarried, grp.K, R_.reverse);
    B_.name(I->body->args[0], "k");
    B_.setRegion(I->body.get());
    std::map<const Value *, Value *> vmap;
    vmap[R_.body->args[0]] = I->body->args[0];
    for (size_t i = 0; i < nc; ++i)
      vmap[R_.body->args[i + 1]] = I->body->args[i + 1];
    Op *fy = nullptr;
    for (auto &op : R_.body->ops) {
      if (op->kind == OpKind::Yield) {
        fy = op.get();
        continue;
      }
      substituteStep(*B_.clone(*op, vmap), I, s, grp);
    }
    std::vector<Value *> slices;
    std::vector<YieldInfo> yields;
    for (size_t i = 0; i < nc; ++i) {
      slices.push_back(vmap.at(fy->operands[plan_[i].slice]));
      yields.push_back({static_cast<int>(i), 0, false, false});
    }
    B_.yield(slices, yields);

    // Back in the segment loop: the next checkpoint and the exposed steps.
    B_.setRegion(O->body.get());
    slices.clear();
    yields.clear();
    for (size_t i = 0; i < nc; ++i) {
      int axis = R_.carried[i].axis;
      int64_t w = plan_[i].window;
      if (w > 0) {
        slices.push_back(slab(B_, I->results[i], axis, fwd_ ? grp.K : 0, w));
        yields.push_back({pIdx[i], 0, false, false});
      }
      if (plan_[i].exposed) {
        slices.push_back(slab(B_, I->results[i], axis, fwd_ ? w : 0, grp.K));
        yields.push_back({eIdx[i], 0, false, false});
      }
    }
    B_.yield(slices, yields);

    // At the top: the window the next group starts from, and the steps of
    // exposed tensors placed back at their positions.
    toTop();
    for (size_t i = 0; i < nc; ++i) {
      int axis = R_.carried[i].axis;
      if (plan_[i].window > 0) {
        Value *P = O->results[pIdx[i]];
        IndexMap m = identityMap(P->type.rank() - 1);
        m.insert(m.begin(), {Affine::constantOf(fwd_ ? grp.S : 0), -1, {}});
        window_[i] = B_.remap(P, m, window_[i]->type.shape);
      }
      if (plan_[i].exposed) {
        Value *E = O->results[eIdx[i]];
        IndexMap m;
        for (int a = 0; a < R_.results[i]->type.rank(); ++a)
          m.push_back({a == axis ? Affine{grp.base + R_.carried[i].offset, {{0, grp.K}, {a + 1, 1}}}
                                 : Affine::var(a + 1),
                       -1, {}});
        parts_[i].push_back(B_.scatterAdd(E, m, R_.results[i]->type.shape));
      }
    }
  }

  /// In a copy of R's body op (and its body), replaces the step t (already
  /// renamed to k) by base + s·K + k, except in reads of the carried
  /// buffers, where position t + e becomes k + e - offset + (buffer offset).
  void substituteStep(Op &op, Op *I, Value *s, const Group &grp) {
    Value *k = I->body->args[0];
    int jk = symbolIndex(op, k);
    if (jk >= 0) {
      std::map<const Affine *, int64_t> bufferReads; // position -> constant shift
      for (size_t p = 0; p < op.operands.size(); ++p)
        for (size_t i = 0; i < plan_.size(); ++i)
          if (op.operands[p] == I->body->args[i + 1])
            if (IndexMap *m = readMap(op, p))
              bufferReads[&(*m)[R_.carried[i].axis].pos] =
                  I->carried[i].offset - R_.carried[i].offset;
      auto rewrite = [&](Affine &a) {
        int64_t c = a.coeff(Affine::symbolVar(jk));
        if (c == 0)
          return;
        auto it = bufferReads.find(&a);
        if (it != bufferReads.end()) {
          a.constant += it->second;
          return;
        }
        int js = symbolIndex(op, s);
        if (js < 0) {
          js = static_cast<int>(op.symbols.size());
          op.symbols.push_back(s);
        }
        a.constant += c * grp.base;
        a.add(Affine::symbolVar(js), c * grp.K);
      };
      auto rewriteMap = [&](IndexMap &m) {
        for (AxisIndex &ax : m) {
          rewrite(ax.pos);
          for (Affine &a : ax.indirectAt)
            rewrite(a);
        }
      };
      for (IndexMap &m : op.maps)
        rewriteMap(m);
      rewriteMap(op.outMap);
    }
    if (op.body)
      for (auto &inner : op.body->ops)
        substituteStep(*inner, I, s, grp);
  }

  Graph &g_;
  Builder B_;
  Op &R_;
  std::vector<CarriedPlan> plan_;
  bool fwd_;
  std::vector<Value *> window_;             ///< per carried: the window a group starts from
  std::vector<std::vector<Value *>> parts_; ///< per exposed carried: its placed segments
};

} // namespace

std::vector<RematReport> segmentRecurrences(Graph &g) {
  std::vector<RematReport> reports;
  std::vector<Op *> recs;
  for (auto &op : g.top.ops)
    if (op->kind == OpKind::Recurrence)
      recs.push_back(op.get());
  for (Op *R : recs) {
    RematReport rep;
    rep.loc = R->loc;
    rep.steps = R->steps;
    std::vector<CarriedPlan> plan;
    if (analyze(g, *R, plan, rep.reason)) {
      Segmenter seg(g, *R, plan);
      seg.run();
      rep.segmented = true;
      rep.segments = seg.segments_;
      rep.segmentLength = seg.segmentLength_;
      auto &ops = g.top.ops;
      for (size_t i = 0; i < ops.size(); ++i)
        if (ops[i].get() == R) {
          ops.erase(ops.begin() + static_cast<long>(i));
          break;
        }
    }
    reports.push_back(rep);
  }
  return reports;
}

} // namespace gradc::passes
