//===- passes/ComposeRemaps.cpp - One remap instead of a chain of two ------===//
#include "passes/ComposeRemaps.h"

#include <functional>

namespace gradc::passes {

using namespace ir;

std::pair<int64_t, int64_t> affineRange(const Affine &a, const std::vector<int64_t> &sizes) {
  int64_t lo = a.constant, hi = a.constant;
  for (auto &[v, c] : a.terms) {
    int64_t span = c * (sizes[v] - 1);
    lo += std::min<int64_t>(0, span);
    hi += std::max<int64_t>(0, span);
  }
  return {lo, hi};
}

namespace {

/// A remap whose map is affine in its loop variables alone.
bool plainRemap(const Op &op) {
  if (op.kind != OpKind::Remap || op.operands.size() != 1 || !op.symbols.empty())
    return false;
  for (const AxisIndex &ax : op.maps[0])
    if (ax.isIndirect())
      return false;
  return true;
}

bool composeInto(Op &outer) {
  if (!plainRemap(outer))
    return false;
  Op *inner = outer.operands[0]->def;
  if (!inner || !plainRemap(*inner))
    return false;
  const std::vector<int64_t> &mid = inner->result()->type.shape;
  const IndexMap &m2 = outer.maps[0];
  for (size_t j = 0; j < m2.size(); ++j) {
    auto [lo, hi] = affineRange(m2[j].pos, outer.result()->type.shape);
    if (lo < 0 || hi >= mid[j])
      return false; // the intermediate's zero padding is read
  }
  IndexMap composed;
  for (const AxisIndex &ax : inner->maps[0]) {
    Affine a = Affine::constantOf(ax.pos.constant);
    for (auto &[v, c] : ax.pos.terms)
      a = a.plus(m2[v].pos.scaled(c));
    composed.push_back({a, -1, {}});
  }
  outer.operands[0] = inner->operands[0];
  outer.maps[0] = composed;
  return true;
}

} // namespace

int composeRemaps(Graph &g) {
  int n = 0;
  std::function<void(Region &)> visit = [&](Region &r) {
    for (auto &op : r.ops) {
      while (composeInto(*op)) // a chain of several folds one link at a time
        ++n;
      if (op->body)
        visit(*op->body);
    }
  };
  visit(g.top);
  return n;
}

} // namespace gradc::passes
