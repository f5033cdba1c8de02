//===- notation/EqRender.h - IR values as expressions in index notation ---===//
//
// Renders an IR value at given positions as an expression of the model
// language: a remap becomes a read at shifted or gathered subscripts, a
// contraction a product with its loops as summed indices, elementwise ops
// their operators and functions. Values with a View are read by name
// (parameters, named tensors, recurrence storage, the gradients shown on
// lines of their own); all others are rendered from their defining op, so a
// chain of elementwise ops reads as one expression.
//
// Recurrence storage is extended (ir/Graph.h): position t + offset holds
// step t. A View maps storage positions back to the logical ones the user
// wrote, so `%h.ext[d0, %t, r0]` with offset 1 reads as `h[b,t-1,i]`.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "notation/EqExpr.h"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace gradc::notation {

/// How a value is read by name: tensor `name`, each of whose axes is an
/// axis of the value or a position fixed by the enclosing loops' steps.
struct View {
  struct Slot {
    int axis = -1;     ///< the value's axis, or -1 for a fixed position
    ir::Affine fixed;  ///< storage position over loop depths (Affine::symbolVar(depth))
    int64_t shift = 0; ///< logical position = storage position + shift
  };
  std::string name;
  std::vector<Slot> slots;

  /// The value's own axes, unshifted.
  static View identity(std::string name, int rank);
  /// True when some position is fixed by a loop's step: a step's slice.
  bool sliced() const {
    for (const Slot &s : slots)
      if (s.axis < 0)
        return true;
    return false;
  }
};

class Renderer {
public:
  /// Values read by name; every other value is rendered from its op.
  std::map<const ir::Value *, View> views;
  /// Recurrence step variables and the depth of their loop (0: outermost).
  std::map<const ir::Value *, int> depthOf;
  /// For the region being displayed: steps and display name of the loop at
  /// each depth.
  std::vector<int64_t> loopSteps;
  std::vector<std::string> loopNames;

  /// Values rendered from their op at positions possibly outside their
  /// shape: where the IR reads 0, the expression might not be 0, so they
  /// need a line (and a name) of their own.
  mutable std::set<const ir::Value *> readOutside;

  /// The value at positions `at` (one per axis of v).
  DExprPtr value(Line &L, const ir::Value *v, const std::vector<DIndex> &at) const;
  /// The value's defining op at positions `at`, even when v has a view: the
  /// right side of the line that defines v.
  DExprPtr definition(Line &L, const ir::Value *v, const std::vector<DIndex> &at) const {
    return op(L, *v->def, at);
  }
  /// The logical positions `view` reads for value positions `at`.
  std::vector<DIndex> logical(Line &L, const View &view, const std::vector<DIndex> &at) const;

  /// True for a scatter_add or an accumulating contraction that has no
  /// value-at-a-position form: it is shown as a statement `X[map] += ...`.
  bool isStatement(const ir::Op &op) const;
  /// A statement op over fresh loops: the positions it adds to (in its
  /// result's axes) and the value added there.
  /// The product of op's operands read at `loops` through their maps.
  DExprPtr factorsAt(Line &L, const ir::Op &op, const std::vector<DIndex> &loops) const;
  DExprPtr statement(Line &L, const ir::Op &op, std::vector<DIndex> &written) const;

  /// True when v is 0 at position q of its axis `axis` whatever the other
  /// positions (conservative: false when it cannot tell).
  bool zeroAt(const ir::Value *v, int axis, int64_t q, int depth = 0) const;

  /// When `remap` reads a slice of a value with a view (each result axis one
  /// source axis, the others fixed by loop steps), that slice's view.
  bool sliceView(const ir::Op &remap, View &out) const;

  /// The variable standing for the step of the loop at `depth`.
  int stepVar(Line &L, int depth) const;

private:
  DExprPtr op(Line &L, const ir::Op &op, const std::vector<DIndex> &at) const;
  DExprPtr contract(Line &L, const ir::Op &op, const std::vector<DIndex> &at) const;
  DExprPtr reduce(Line &L, const ir::Op &op, const std::vector<DIndex> &at) const;
  DExprPtr normalize(Line &L, const ir::Op &op, const std::vector<DIndex> &at) const;
  DExprPtr scatterGather(Line &L, const ir::Op &op, const std::vector<DIndex> &at) const;
  mutable int checking_ = 0; ///< inside an expression read outside its shape

  /// True when v's expression is 0 wherever it is read outside v's shape,
  /// as the IR's read of v is (f(reads) with f(0) = 0, all reads outside).
  bool vanishesOutside(const ir::Value *v) const;
  /// True when position i stays in [0, extent) over its variables' ranges.
  bool within(const Line &L, const DIndex &i, int64_t extent) const;
  DIndex eval(Line &L, const ir::Affine &a, const std::vector<DIndex> &loops,
              const ir::Op &op) const;
  DIndex axis(Line &L, const ir::AxisIndex &ax, const std::vector<DIndex> &loops,
              const ir::Op &op) const;
  /// A fresh summed variable, or the position 0 for a range of one.
  DIndex fresh(Line &L, int64_t size, std::vector<int> &bound) const;
  bool gatherForm(const ir::Op &scatter) const;

public:
  /// For a contraction with an output map: whether each result axis can be
  /// solved for one loop (`chosen`), turning it into a plain product.
  bool invertible(const ir::Op &op, std::vector<int> &chosen) const;
};

} // namespace gradc::notation
