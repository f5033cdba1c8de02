//===- ir/IndexMap.h - Affine and indirect index maps ----------------------===//
//
// remap and contract ops read their operands through index maps: for each
// axis of an operand, the position read is an affine function of the op's
// loop variables (its result axes, then for contract its reduction axes) and
// of enclosing recurrences' step variables (the op's `symbols`), or an
// indirect position read from an int tensor operand plus an affine offset.
// The adjoints write through maps of the same kind: scatter_add places each
// element of its source (whose axes are its loop variables) in its result,
// and a contract with an output map, whose loops are all listed in
// reductionSizes, places each loop point's product in its result.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gradc::ir {

/// c + sum(coeff * var). A var >= 0 is loop variable d<var>; a var < 0 is
/// symbol number (-var - 1) of the op (a recurrence step variable).
struct Affine {
  int64_t constant = 0;
  std::vector<std::pair<int, int64_t>> terms; ///< (var, coeff), coeff != 0

  static Affine constantOf(int64_t c) { return Affine{c, {}}; }
  static Affine var(int v, int64_t coeff = 1) { return Affine{0, {{v, coeff}}}; }
  static int symbolVar(int symbolIndex) { return -symbolIndex - 1; }

  /// The coefficient of `v` (0 if absent).
  int64_t coeff(int v) const;
  Affine plus(const Affine &o) const;
  Affine scaled(int64_t k) const;
  /// Loop variable v becomes to[v]; symbols and the constant stay.
  Affine renumbered(const std::vector<int> &to) const;
  /// Adds `coeff` to variable v's coefficient (dropping zero terms).
  void add(int v, int64_t coeff);
  bool isConstant() const { return terms.empty(); }
  /// True when this is exactly loop variable v (coefficient 1, constant 0).
  bool isVar(int v) const { return constant == 0 && terms.size() == 1 && terms[0].first == v && terms[0].second == 1; }
  /// Evaluates with loop values `loops` and symbol values `symbols`.
  int64_t eval(const int64_t *loops, const int64_t *symbols) const;
  bool operator==(const Affine &o) const { return constant == o.constant && terms == o.terms; }
};

/// The position read along one axis of an operand.
struct AxisIndex {
  /// Affine position; for an indirect index, the offset added to the value read.
  Affine pos;
  /// Operand number of the int tensor holding indirect positions, or -1.
  int indirect = -1;
  /// Where the int tensor is read: one Affine per axis of that operand.
  std::vector<Affine> indirectAt;

  bool isIndirect() const { return indirect >= 0; }
  bool operator==(const AxisIndex &o) const {
    return pos == o.pos && indirect == o.indirect && indirectAt == o.indirectAt;
  }
};

/// One AxisIndex per axis of the operand read.
using IndexMap = std::vector<AxisIndex>;

/// An identity map over `rank` loop variables.
IndexMap identityMap(int rank);

/// Renumbers the loop variables of every position (Affine::renumbered) in
/// `maps`, in place: a rewrite that reorders or renames an op's loops.
void renumberLoops(std::vector<IndexMap> &maps, const std::vector<int> &to);

} // namespace gradc::ir
