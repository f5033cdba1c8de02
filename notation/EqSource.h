//===- notation/EqSource.h - What the source says about each equation -----===//
//
// The displayed gradient equations borrow from the model's source: each
// block is headed by the forward equation as it was written (with the names
// a def call gave its tensors: `h.c` for lstm's `c` in `h, c = lstm(x, H)`),
// and index variables are named after the ones the user wrote for the same
// tensor axes. This is the one place that reads the resolved model.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/Model.h"
#include "notation/EqExpr.h"
#include "support/SourceManager.h"

#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace gradc::notation {

class SourceInfo {
public:
  SourceInfo(const sema::Model &m, const SourceManager &sm);

  /// The model tensor an IR value name stands for, in display form: the name
  /// itself ("a1.W"), or without the suffixes the IR adds ("h.c.step.1",
  /// "h.c.ext" -> "h.c"), keeping a leading "grad." ("grad.h.c.carried" ->
  /// "grad.h.c"). Empty when no tensor matches.
  std::string tensorFor(const std::string &irName) const;

  /// The equation defining `tensor` (a display name without "grad."), or -1.
  int mainEquation(const std::string &tensor) const;
  /// Boundary equations of `tensor` (`h[-1, b, j] = x[b, j]`).
  std::vector<int> boundaryEquations(const std::string &tensor) const;
  /// The recurrence `tensor` belongs to: its axis along the recurrence, and
  /// the names of the group's tensors; -1 and empty outside recurrences.
  int recurrenceAxis(const std::string &tensor) const;
  std::vector<std::string> recurrenceGroup(const std::string &tensor) const;
  /// The rank of `tensor`, or -1 when no tensor has that name.
  int rankOf(const std::string &tensor) const;
  /// The size of axis `axis` of `tensor` (which must exist).
  int64_t extentOf(const std::string &tensor, int axis) const;
  /// True when some subexpression of equation `eq` sits at `loc`.
  bool equationHasLoc(int eq, SourceLoc loc) const;

  /// Equation `eq` as written, on one line, with the tensors named as in the
  /// IR: a def's return `return W[o, i]*x[..., i] + c[o] -> [..., o]` called
  /// as `p = dense(h, K)` reads `p[..., o] = p.W[o, i]*h[..., i] + p.c[o]`.
  /// `shown` tells which tensors the display names: one that is only a copy
  /// of another (`Cr = conv2d(...)` returning the def's `R`) shares that
  /// one's value in the IR and is called by its name.
  std::string header(int eq, const std::function<bool(const std::string &)> &shown) const;
  /// The statement at `loc` as written, on one line, comments dropped.
  std::string statementAt(SourceLoc loc) const;
  /// "lstm.grad:18", or "<std>:149, in lstm" inside a def.
  std::string where(SourceLoc loc) const;
  SourceLoc equationLoc(int eq) const { return m_.equations[eq].loc; }

  /// Names the source gives axis `axis` of `tensor`, weighted: from equation
  /// `eq` when eq >= 0, else from all equations. A left side counts most; a
  /// read subscripted like `pattern` (when given) counts more than others,
  /// so `grad.h[b,t-1,i]` takes its name from `h[b,t-1,i]`, not `h[b,t,j]`.
  /// Axes no subscript names borrow the names of axes they share a range
  /// with through the equations (whole-tensor equations, a def's `...`).
  void votes(int eq, const std::string &tensor, int axis, const Offsets *pattern,
             std::vector<std::pair<std::string, int>> &out) const;
  /// A name for a variable of this range when one dim has exactly that size
  /// (B = 32 -> "b"); empty otherwise.
  std::string dimName(int64_t size) const;
  /// True for names a displayed index variable must not take: tensors, dims.
  bool reserved(const std::string &n) const;

private:
  struct Vote {
    std::string name;
    int weight;
    Offsets offsets; ///< of the subscripts it was read with
  };
  using AxisKey = std::pair<std::string, int>;
  using AxisVotes = std::map<AxisKey, std::vector<Vote>>;

  void collectVotes(int eq, AxisVotes &into) const;
  void linkAxes();
  int classOf(const AxisKey &k);
  size_t offsetOf(SourceLoc loc) const;

  const sema::Model &m_;
  const SourceManager &sm_;
  std::vector<AxisVotes> eqVotes_;
  AxisVotes allVotes_;
  std::vector<std::set<std::tuple<uint32_t, uint32_t, uint32_t>>> eqLocs_;
  std::set<std::string> reserved_;
  std::vector<std::vector<std::string>> groups_;
  std::map<std::string, std::pair<int, int>> groupOf_; ///< tensor -> (axis, group)
  /// Tensor axes linked by one index variable, as a union-find.
  std::map<AxisKey, int> axisClass_;
  std::vector<int> parent_;
  std::map<int, std::map<std::string, int>> classNames_;
};

} // namespace gradc::notation
