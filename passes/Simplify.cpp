//===- passes/Simplify.cpp - Constant conditions and common subexpressions -===//
//
// One walk over the graph in program order. Each op's operands are first
// redirected through the replacements made so far, so a chain of duplicates
// collapses in a single pass; then the op is either folded (a `where` whose
// condition is a constant), merged into an earlier op with the same
// signature, or recorded as the first of its signature. Ops inside a
// recurrence body are merged only with ops of the same body: a body runs
// once per step, and its values differ from step to step.
//
//===----------------------------------------------------------------------===//
#include "passes/Simplify.h"

#include "ir/Rewrite.h"

#include <cctype>
#include <cstring>
#include <map>
#include <string>
#include <unordered_map>

namespace gradc::passes {

using namespace ir;

namespace {

/// Ops whose result depends on their operands and attributes alone.
bool mergeable(const Op &op) {
  switch (op.opClass()) {
  case OpClass::Leaf:
    return op.kind == OpKind::Constant || op.kind == OpKind::Iota;
  case OpClass::Recurrence:
  case OpClass::Yield:
    return false;
  default:
    return !op.results.empty();
  }
}

void appendInt(std::string &s, int64_t v) {
  s.append(reinterpret_cast<const char *>(&v), sizeof v);
}

void appendPtr(std::string &s, const void *p) {
  s.append(reinterpret_cast<const char *>(&p), sizeof p);
}

void appendAffine(std::string &s, const Affine &a) {
  appendInt(s, a.constant);
  appendInt(s, static_cast<int64_t>(a.terms.size()));
  for (auto &[v, c] : a.terms) {
    appendInt(s, v);
    appendInt(s, c);
  }
}

void appendMap(std::string &s, const IndexMap &m) {
  appendInt(s, static_cast<int64_t>(m.size()));
  for (const AxisIndex &ax : m) {
    appendAffine(s, ax.pos);
    appendInt(s, ax.indirect);
    appendInt(s, static_cast<int64_t>(ax.indirectAt.size()));
    for (const Affine &a : ax.indirectAt)
      appendAffine(s, a);
  }
}

/// Everything that determines an op's value, as bytes: two ops with the
/// same signature compute the same tensor.
std::string signature(const Op &op) {
  std::string s;
  appendInt(s, static_cast<int64_t>(op.kind));
  for (const auto *list : {&op.operands, &op.symbols}) {
    appendInt(s, static_cast<int64_t>(list->size()));
    for (const Value *v : *list)
      appendPtr(s, v);
  }
  for (const Value *r : op.results) {
    appendInt(s, static_cast<int64_t>(r->type.dtype));
    appendInt(s, static_cast<int64_t>(r->type.shape.size()));
    for (int64_t d : r->type.shape)
      appendInt(s, d);
  }
  int64_t bits = 0;
  static_assert(sizeof bits == sizeof op.value);
  std::memcpy(&bits, &op.value, sizeof bits); // NaN attributes compare by their bits
  appendInt(s, bits);
  appendInt(s, static_cast<int64_t>(op.axes.size()));
  for (int a : op.axes)
    appendInt(s, a);
  appendInt(s, static_cast<int64_t>(op.maps.size()));
  for (const IndexMap &m : op.maps)
    appendMap(s, m);
  appendMap(s, op.outMap);
  appendInt(s, static_cast<int64_t>(op.reductionSizes.size()));
  for (int64_t r : op.reductionSizes)
    appendInt(s, r);
  return s;
}

/// The value `where` selects when its condition is a constant or its
/// branches are one value; null otherwise. Only a branch of the result's
/// own type can stand in for it (a rank-0 branch is broadcast by `where`).
Value *foldedWhere(const Op &op) {
  if (op.kind != OpKind::Where)
    return nullptr;
  const Op *cond = op.operand(0)->def;
  Value *pick = nullptr;
  if (op.operand(1) == op.operand(2))
    pick = op.operand(1);
  else if (cond && cond->kind == OpKind::Constant)
    pick = cond->value != 0 ? op.operand(1) : op.operand(2);
  if (!pick || !(pick->type == op.result()->type))
    return nullptr;
  return pick;
}

/// A scatter_add whose map sends each source axis to its own result axis,
/// shifted (result[..., d_v + c, ...] += src[d]), hits every result position
/// at most once: it is the gather result[e] = src[..., e_a - c, ...], a
/// remap, which reads 0 where no source position lands (the scatter's zero
/// fill) and runs in parallel. The gradient of a transpose or a shift.
/// Rewrites `op` in place; returns whether it did.
bool scatterAsGather(Op &op) {
  if (op.kind != OpKind::ScatterAdd || op.operands.size() != 1)
    return false;
  const std::vector<int64_t> &src = op.operand(0)->type.shape;
  const IndexMap &m = op.maps[0];
  std::vector<int> axisOf(src.size(), -1); // the result axis each source axis goes to
  for (size_t a = 0; a < m.size(); ++a) {
    if (m[a].isIndirect())
      return false;
    int var = -1;
    for (auto &[v, c] : m[a].pos.terms)
      if (v >= 0) {
        if (var >= 0 || c != 1)
          return false; // two loop variables, or a stride
        var = v;
      }
    if (var < 0 || axisOf[var] >= 0)
      return false; // a fixed position, or one axis scattered twice
    axisOf[var] = static_cast<int>(a);
  }
  IndexMap gather;
  for (size_t v = 0; v < src.size(); ++v) {
    if (axisOf[v] < 0)
      return false; // a summed axis: positions meet
    int a = axisOf[v];
    Affine pos = m[a].pos.scaled(-1); // -(d_v + c) ...
    pos.add(static_cast<int>(v), 1);  // ... + d_v = -c
    pos.add(a, 1);                    // e_a - c
    gather.push_back({pos, -1, {}});
  }
  op.kind = OpKind::Remap;
  op.maps[0] = gather;
  return true;
}

bool isTemp(const std::string &name) {
  return name.empty() || std::isdigit(static_cast<unsigned char>(name[0]));
}

/// `name` is `base` made unique by the graph ("S.packed.1" for "S.packed").
bool uniquifiedFrom(const std::string &name, const std::string &base) {
  if (name.size() <= base.size() + 1 || name.compare(0, base.size(), base) != 0 ||
      name[base.size()] != '.')
    return false;
  for (size_t i = base.size() + 1; i < name.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(name[i])))
      return false;
  return true;
}

/// Whether `later` may be merged into `first`, keeping the names people
/// read in `--emit=grad` and `--emit=grad-eqs`: a later temporary always
/// merges, a later value named after the first one too ("S.packed.1"); a
/// named value merges into a temporary, which takes its name (`rename`);
/// two different source names stay apart, as do named constants (the seed
/// `grad.loss = 1` is not any other 1).
bool mayMerge(const Op &first, const Op &later, bool &rename) {
  rename = false;
  for (size_t i = 0; i < later.results.size(); ++i) {
    const std::string &a = first.results[i]->name, &b = later.results[i]->name;
    if (isTemp(b) || uniquifiedFrom(b, a))
      continue;
    if (!isTemp(a) || first.kind == OpKind::Constant || later.results.size() != 1)
      return false;
    rename = true;
  }
  return true;
}

class Simplifier {
public:
  Simplifier(Graph &g, bool gathers) : g_(g), gathers_(gathers) {}
  SimplifyStats stats;

  void region(Region &r) {
    std::unordered_map<std::string, Op *> seen;
    for (auto &opPtr : r.ops) {
      Op &op = *opPtr;
      for (Value *&v : op.operands)
        v = resolve(v);
      for (Value *&v : op.symbols)
        v = resolve(v);
      if (op.body)
        region(*op.body);
      if (gathers_)
        stats.gathers += scatterAsGather(op);
      if (Value *pick = foldedWhere(op)) {
        replaced_[op.result()] = pick;
        ++stats.folded;
        continue;
      }
      if (!mergeable(op))
        continue;
      auto [it, fresh] = seen.emplace(signature(op), &op);
      bool rename = false;
      if (fresh || !mayMerge(*it->second, op, rename))
        continue;
      if (rename) {
        std::string name = op.result()->name;
        g_.rename(op.result(), name + ".replaced");
        g_.rename(it->second->result(), name);
      }
      for (size_t i = 0; i < op.results.size(); ++i)
        replaced_[op.results[i]] = it->second->results[i];
      ++stats.merged;
    }
  }

  void graphUses(Graph &g) {
    forEachGraphUse(g, [&](Value *&v) { v = resolve(v); });
  }

private:
  Graph &g_;
  bool gathers_;
  std::map<const Value *, Value *> replaced_;

  Value *resolve(Value *v) {
    auto it = replaced_.find(v);
    return it == replaced_.end() ? v : it->second; // stored already resolved
  }
};

} // namespace

SimplifyStats simplify(Graph &g, bool gathers) {
  Simplifier s(g, gathers);
  s.region(g.top);
  s.graphUses(g);
  return s.stats;
}

} // namespace gradc::passes
