//===- ir/ContractShape.cpp - Shapes of contraction the backends special-case -===//
#include "ir/ContractShape.h"

namespace gradc::ir {

int innermostVectorFactor(const Op &op) {
  if (op.kind != OpKind::Contract || !op.outMap.empty() || op.operands.size() != 2 ||
      !op.symbols.empty())
    return -1;
  const std::vector<int64_t> &shape = op.result()->type.shape;
  int R = static_cast<int>(shape.size());
  if (R < 2 || shape[R - 1] % 8 != 0 || shape[R - 1] > kMaxVectorAxis)
    return -1;
  int found = -1;
  for (int f = 0; f < 2; ++f)
    for (const AxisIndex &ax : op.maps[f]) {
      if (ax.isIndirect())
        return -1;
      for (auto &[v, c] : ax.pos.terms)
        if (v == R - 1) {
          if (found >= 0 && found != f)
            return -1; // both factors read it
          found = f;
        }
    }
  return found;
}

bool accumulatesRows(const Op &op) {
  if (op.kind != OpKind::Contract || !op.outMap.empty() || op.reductionSizes.empty())
    return false;
  int R = static_cast<int>(op.result()->type.rank());
  if (R == 0)
    return false;
  bool rowRead = false;
  for (const IndexMap &m : op.maps) {
    if (m.empty())
      continue;
    const AxisIndex &last = m.back();
    if (last.isIndirect())
      return false;
    for (auto &[v, c] : last.pos.terms)
      if (v >= R)
        return false; // this factor sums along its innermost axis
    if (last.pos.isVar(R - 1))
      rowRead = true;
    for (size_t a = 0; a + 1 < m.size(); ++a)
      if (m[a].pos.coeff(R - 1) != 0)
        return false; // the row variable strides an outer axis
  }
  return rowRead;
}

} // namespace gradc::ir
