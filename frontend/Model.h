//===- frontend/Model.h - A model after name, shape and index resolution ---===//
//
// Sema turns the AST of one `model` (with every def call inlined) into this
// form: tensors with static shapes and element types, and equations whose
// right sides are RExpr trees in which every name is resolved, every index
// variable has a range, and every implicit summation is an explicit Sum node.
// frontend/Lowering turns it into IR.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "support/SourceManager.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gradc::sema {

enum class Role { Input, Param, Noise, State, Equation };

struct Tensor {
  std::string name;
  SourceLoc loc;        ///< declaration, or first defining equation
  Role role = Role::Equation;
  bool isInt = false;
  int rank = -1;        ///< -1 until known
  std::vector<int> axisNodes; ///< range-solver classes, one per axis
  std::vector<int64_t> shape; ///< filled once solved
  ir::InitSpec init;          ///< params, state, noise
  bool initFanGiven = false;  ///< he(fan_in = K) was written
  SourceLoc initLoc;
  int mainEq = -1;            ///< the equation defining it (role Equation)
  std::vector<int> boundaryEqs;
  /// Recurrence storage: positions added before/after each axis so that
  /// boundary values live in the tensor (see ir/Graph.h).
  std::vector<int64_t> extBefore, extAfter;
  bool isOutput = false;
  bool hidden = false;        ///< an update's right side, not a user tensor
  /// Declaration order for leaves: the locations of the enclosing calls,
  /// then the declaration's own (a def's params come at its call).
  std::vector<SourceLoc> orderKey;
};

/// An index variable of one equation (or of one of its binders).
struct Var {
  std::string name;
  SourceLoc loc;
  int node = -1;        ///< range-solver class
  bool onLhs = false;
  bool fixed = false;   ///< range from a `for` clause or a binder's own range
  bool elementwise = false; ///< introduced for a whole-tensor reference
  bool eqLevel = false; ///< the equation's own (not a binder's)
  int64_t size = -1;    ///< after solving
};

/// One subscript of a read: c + sum(coeff * var), or an indirect index
/// `intTensor[...] + c`.
struct Subscript {
  SourceLoc loc;
  int64_t constant = 0;
  std::vector<std::pair<int, int64_t>> terms; ///< (var, coeff)
  struct RExpr *indirect = nullptr;            ///< an int tensor read, or null
  bool isSimpleVar(int &var, int64_t &offset) const {
    if (indirect || terms.size() != 1 || terms[0].second != 1)
      return false;
    var = terms[0].first;
    offset = constant;
    return true;
  }
};

enum class RKind {
  Number,     ///< value
  Read,       ///< tensor[subs]
  IndexValue, ///< the value of index variable `var`
  Unary,      ///< op(kids[0])
  Binary,     ///< op(kids[0], kids[1])
  Where,      ///< where(kids[0], kids[1], kids[2])
  Sum,        ///< sum over vars of kids[0] (explicit or implicit)
  Reduce,     ///< op over vars of kids[0]: ReduceMax, ReduceMin, LogSumExp, ArgMax
  Normalize,  ///< op over vars of kids[0]: Softmax, LogSoftmax
  Count,      ///< the number of positions `vars` range over
  Training,   ///< the constant `training` (1 in the training graph)
};

struct RExpr {
  RKind kind;
  SourceLoc loc;
  double value = 0;
  int tensor = -1;
  std::vector<Subscript> subs;
  int var = -1;
  ir::OpKind op = ir::OpKind::Add;
  std::vector<int> vars; ///< bound variables (Sum, Reduce, Normalize)
  bool implicitSum = false;
  std::vector<std::unique_ptr<RExpr>> kids;
  std::vector<std::unique_ptr<RExpr>> ownedIndirect; ///< keeps Subscript::indirect alive
  bool isInt = false; ///< computed by typing
  bool whole = false; ///< a whole-tensor reference, subscripts filled in later
  /// A call argument or binder body: implicit sums close inside it.
  bool scopeBoundary = false;
  const char *callee = nullptr; ///< for call arguments: the function's name
};
using RExprPtr = std::unique_ptr<RExpr>;

/// Calls f on every tensor read below e, including the int reads inside
/// indirect subscripts.
template <class E, class F> void forEachRead(E &e, const F &f) {
  if (e.kind == RKind::Read) {
    f(e);
    for (auto &s : e.subs)
      if (s.indirect)
        forEachRead(*static_cast<E *>(s.indirect), f);
  }
  for (auto &k : e.kids)
    forEachRead(*static_cast<E *>(k.get()), f);
}

struct Equation {
  int tensor = -1;
  SourceLoc loc;
  std::vector<Var> vars;
  /// Left-side subscripts: a variable, or (boundary equations) a constant
  /// position for the recurrence axis.
  struct LhsSub {
    int var = -1;
    int64_t constant = 0;
  };
  std::vector<LhsSub> lhs;
  bool isBoundary = false;
  bool isUpdate = false; ///< computes an update's new state value
  RExprPtr rhs;
};

/// A recurrence: a strongly connected group of equations along one axis.
struct Unit;
struct RecGroup {
  std::vector<int> tensors; ///< the group's tensors (each has a main equation)
  std::vector<int> axis;    ///< per tensor: its recurrence axis
  bool reverse = false;     ///< reads later positions: runs backwards
  int64_t steps = 0;
  std::vector<Unit> body;   ///< one step, in dependency order
  SourceLoc loc;
};

/// One step of the schedule: a single equation or a recurrence.
struct Unit {
  int eq = -1;
  std::unique_ptr<RecGroup> group;
};

struct NamedRef {
  std::string name;
  int tensor = -1;
  SourceLoc loc;
};

struct OptimizerSpec {
  std::string name; ///< "" when the model gives none
  std::map<std::string, double> args;
  SourceLoc loc;
};

struct Model {
  std::string name;
  SourceLoc loc;
  std::map<std::string, int64_t> dims; ///< every dim, after -D overrides
  std::vector<Tensor> tensors;
  std::vector<Equation> equations;
  std::vector<NamedRef> outputs;
  std::optional<NamedRef> loss;
  std::vector<NamedRef> metrics;
  std::vector<std::pair<int, int>> updates; ///< (state tensor, equation)
  std::vector<Unit> schedule; ///< main equations in dependency order
  OptimizerSpec optimizer;
  std::optional<double> clipNorm;

  int findTensor(const std::string &n) const {
    for (size_t i = 0; i < tensors.size(); ++i)
      if (tensors[i].name == n)
        return static_cast<int>(i);
    return -1;
  }
  int64_t paramCount() const {
    int64_t n = 0;
    for (auto &t : tensors)
      if (t.role == Role::Param) {
        int64_t k = 1;
        for (auto d : t.shape)
          k *= d;
        n += k;
      }
    return n;
  }
};

} // namespace gradc::sema
