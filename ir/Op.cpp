//===- ir/Op.cpp - Op tables generated from Ops.def ------------------------===//
#include "ir/Graph.h"

#include <string>

namespace gradc::ir {

namespace {
struct OpRow {
  const char *mnemonic;
  OpClass cls;
  int arity;
  unsigned traits;
};
const OpRow kOps[] = {
#define GRADC_OP(Kind, Mnemonic, Class, Arity, Traits) {Mnemonic, OpClass::Class, Arity, Traits},
#include "ir/Ops.def"
};
} // namespace

const char *opMnemonic(OpKind k) { return kOps[static_cast<int>(k)].mnemonic; }
OpClass opClassOf(OpKind k) { return kOps[static_cast<int>(k)].cls; }
int opArity(OpKind k) { return kOps[static_cast<int>(k)].arity; }
unsigned opTraits(OpKind k) { return kOps[static_cast<int>(k)].traits; }

bool opFromMnemonic(std::string_view m, OpKind &out) {
  for (size_t i = 0; i < sizeof(kOps) / sizeof(kOps[0]); ++i)
    if (m == kOps[i].mnemonic) {
      out = static_cast<OpKind>(i);
      return true;
    }
  return false;
}

int Op::numLoops() const {
  if (kind == OpKind::Contract && !outMap.empty())
    return static_cast<int>(reductionSizes.size()); // every loop is explicit
  if (kind == OpKind::ScatterAdd)
    return static_cast<int>(operands[0]->type.rank()); // the source's positions
  int n = results.empty() ? 0 : static_cast<int>(results[0]->type.rank());
  if (kind == OpKind::Contract)
    n += static_cast<int>(reductionSizes.size());
  return n;
}

} // namespace gradc::ir
