//===- passes/ContractForms.cpp - Contractions with output maps, made plain -===//
//
// The adjoint of a contraction with respect to a factor accumulates through
// that factor's index map: dL[x + dx - 1] += g[x] K[dx]. When each result
// axis is `u = v + rest` for a loop variable v (coefficient 1) that no other
// result axis uses and that some factor reads as a plain index (so reads
// out of that factor's range already give 0), substituting v = u - rest
// turns it into a plain contraction over the result positions:
// dL[u] = sum_dx g[u - dx + 1] K[dx], the transposed convolution. Strided
// maps (u = 2x + dx) work the same way through dx. Anything else keeps its
// output map, which the interpreter and code generator also run.
//
//===----------------------------------------------------------------------===//
#include "passes/AutodiffImpl.h"

#include "support/Assert.h"

namespace gradc::passes {

using namespace ir;

Value *simplifyContract(Builder &B, Value *v) {
  Op &op = *v->def;
  if (op.kind != OpKind::Contract || op.outMap.empty())
    return v;
  int n = static_cast<int>(op.outMap.size());
  int loops = static_cast<int>(op.reductionSizes.size());
  std::vector<int> chosen(n, -1);
  std::vector<int> chosenBy(loops, -1);
  for (int j = 0; j < n; ++j) {
    if (op.outMap[j].isIndirect())
      return v;
    for (auto &[var, c] : op.outMap[j].pos.terms) {
      if (var < 0 || c != 1 || chosenBy[var] >= 0)
        continue;
      bool elsewhere = false;
      for (int k = 0; k < n; ++k)
        elsewhere = elsewhere || (k != j && op.outMap[k].pos.coeff(var) != 0);
      bool bounded = false;
      for (size_t f = 0; f < op.operands.size(); ++f)
        for (size_t a = 0; a < op.maps[f].size(); ++a)
          bounded = bounded || (op.maps[f][a].pos.isVar(var) &&
                                op.operands[f]->type.shape[a] == op.reductionSizes[var]);
      if (!elsewhere && bounded) {
        chosen[j] = var;
        chosenBy[var] = j;
        break;
      }
    }
    if (chosen[j] < 0)
      return v;
  }
  // New loops: result axis j is loop j; the remaining loops follow.
  std::vector<int> renumber(loops, -1);
  std::vector<int64_t> reduction;
  for (int l = 0; l < loops; ++l)
    if (chosenBy[l] < 0) {
      renumber[l] = n + static_cast<int>(reduction.size());
      reduction.push_back(op.reductionSizes[l]);
    }
  auto rewrite = [&](const Affine &a) {
    Affine r;
    r.constant = a.constant;
    for (auto &[var, c] : a.terms) {
      if (var < 0) {
        r.add(var, c);
      } else if (chosenBy[var] >= 0) {
        // v_j = u_j - rest_j, where outMap[j] = v_j + rest_j
        int j = chosenBy[var];
        Affine rest = op.outMap[j].pos;
        rest.add(var, -1);
        r.add(j, c);
        r.constant -= c * rest.constant;
        for (auto &[rv, rc] : rest.terms)
          r.add(rv < 0 ? rv : renumber[rv], -c * rc);
      } else {
        r.add(renumber[var], c);
      }
    }
    return r;
  };
  std::vector<IndexMap> maps;
  for (auto &m : op.maps) {
    IndexMap nm;
    for (auto &ax : m)
      nm.push_back({rewrite(ax.pos), -1, {}});
    maps.push_back(std::move(nm));
  }
  return B.contract(op.operands, maps, v->type.shape, reduction, op.symbols);
}

} // namespace gradc::passes
