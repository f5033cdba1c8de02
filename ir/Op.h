//===- ir/Op.h - Op kinds and traits, generated from Ops.def ---------------===//
#pragma once

#include <cstdint>
#include <string_view>

namespace gradc::ir {

enum OpTrait : unsigned {
  T_Elementwise = 1u << 0,
  T_Differentiable = 1u << 1,
  T_IntResult = 1u << 2,
  T_Comparison = 1u << 3,
  T_Random = 1u << 4,
};

enum class OpClass : uint8_t {
  Leaf,
  Unary,
  Binary,
  Ternary,
  Remap,
  Scatter,
  Contract,
  Reduce,
  Normalize,
  Recurrence,
  Yield
};

enum class OpKind : uint8_t {
#define GRADC_OP(Kind, Mnemonic, Class, Arity, Traits) Kind,
#include "ir/Ops.def"
};

const char *opMnemonic(OpKind k);
OpClass opClassOf(OpKind k);
int opArity(OpKind k);          ///< -1 for variadic
unsigned opTraits(OpKind k);
/// Looks a mnemonic up; returns false if unknown.
bool opFromMnemonic(std::string_view m, OpKind &out);

inline bool isElementwise(OpKind k) { return opTraits(k) & T_Elementwise; }
inline bool isComparison(OpKind k) { return opTraits(k) & T_Comparison; }

} // namespace gradc::ir
