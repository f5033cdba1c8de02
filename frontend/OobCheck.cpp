//===- frontend/OobCheck.cpp - Listing out-of-bounds (zero-padded) reads --===//
//
// For each affine subscript the range of positions it reaches follows from
// the ranges of its variables (interval arithmetic on c + sum(k * v)); a
// range that leaves 0 .. size-1 reads zero padding somewhere. Positions a
// recurrence tensor keeps for its boundary values are not padding.
//
//===----------------------------------------------------------------------===//
#include "frontend/OobCheck.h"

#include <functional>

namespace gradc {

using namespace sema;

int warnOutOfBoundsReads(const Model &m, DiagnosticEngine &diags) {
  int count = 0;
  for (const Equation &eq : m.equations) {
    std::function<void(const RExpr &)> visit = [&](const RExpr &r) {
      if (r.kind == RKind::Read) {
        const Tensor &T = m.tensors[r.tensor];
        for (size_t a = 0; a < r.subs.size(); ++a) {
          const Subscript &s = r.subs[a];
          if (s.indirect) {
            visit(*s.indirect);
            continue;
          }
          int64_t lo = s.constant, hi = s.constant;
          for (auto &[v, k] : s.terms) {
            int64_t top = k * (eq.vars[v].size - 1);
            (top < 0 ? lo : hi) += top;
          }
          int64_t first = T.extBefore.empty() ? 0 : -T.extBefore[a];
          int64_t last = T.shape[a] - 1 + (T.extAfter.empty() ? 0 : T.extAfter[a]);
          if (lo < first || hi > last) {
            ++count;
            diags.warning(s.loc, "read of '" + T.name + "' reaches positions " +
                                     std::to_string(lo) + " .. " + std::to_string(hi) +
                                     " of axis " + std::to_string(a) + " (size " +
                                     std::to_string(T.shape[a]) +
                                     "); positions outside it read 0");
          }
        }
      }
      for (auto &k : r.kids)
        visit(*k);
    };
    visit(*eq.rhs);
  }
  return count;
}

} // namespace gradc
