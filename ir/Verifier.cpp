//===- ir/Verifier.cpp - The IR's invariants, checked ---------------------===//
#include "ir/Verifier.h"

#include "ir/Printer.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace gradc::ir {

namespace {

std::string shapeStr(const std::vector<int64_t> &shape) {
  return TensorType{DType::F32, shape}.str().substr(3);
}

/// The checks of one op; messages go to `errs` without the op's name.
class OpChecker {
public:
  OpChecker(const Op &op, std::vector<std::string> &errs) : op_(op), errs_(errs) {}

  void run() {
    if (!checkCounts())
      return;
    checkSymbols();
    if (!op_.outMap.empty() && op_.kind != OpKind::Contract)
      fail("only a contract has an output map");
    switch (op_.opClass()) {
    case OpClass::Leaf:
      return checkLeaf();
    case OpClass::Unary:
      requireF32(0);
      if (result().type != op_.operands[0]->type)
        fail("result type " + result().type.str() + " differs from the operand's " +
             op_.operands[0]->type.str());
      return;
    case OpClass::Binary:
    case OpClass::Ternary:
      return checkElementwise();
    case OpClass::Remap:
      return checkRemap();
    case OpClass::Scatter:
      return checkScatter();
    case OpClass::Contract:
      return checkContract();
    case OpClass::Reduce:
    case OpClass::Normalize:
      return checkReduceOrNormalize();
    case OpClass::Recurrence:
      return checkRecurrence();
    case OpClass::Yield:
      return checkYield();
    }
  }

private:
  void fail(std::string msg) { errs_.push_back(std::move(msg)); }
  const Value &result() const { return *op_.results[0]; }
  const TensorType &operandType(size_t k) const { return op_.operands[k]->type; }

  /// Result and operand counts, and no null pointers; the other checks
  /// rely on them.
  bool checkCounts() {
    size_t want = op_.kind == OpKind::Yield        ? 0
                  : op_.kind == OpKind::Recurrence ? op_.operands.size()
                                                   : 1;
    if (op_.results.size() != want) {
      fail("has " + std::to_string(op_.results.size()) + " results, expected " +
           std::to_string(want));
      return false;
    }
    int arity = opArity(op_.kind);
    if (arity >= 0 && op_.operands.size() != static_cast<size_t>(arity)) {
      fail("expects " + std::to_string(arity) + " operands, has " +
           std::to_string(op_.operands.size()));
      return false;
    }
    if ((op_.kind == OpKind::Remap || op_.kind == OpKind::ScatterAdd ||
         op_.kind == OpKind::Contract) &&
        op_.operands.empty()) {
      fail("has no operands");
      return false;
    }
    for (size_t i = 0; i < op_.operands.size(); ++i)
      if (!op_.operands[i]) {
        fail("operand " + std::to_string(i) + " is null");
        return false;
      }
    for (size_t i = 0; i < op_.results.size(); ++i)
      if (!op_.results[i]) {
        fail("result " + std::to_string(i) + " is null");
        return false;
      }
    for (Value *v : op_.operands)
      if (v->type.dtype == DType::Index) {
        fail("operand " + printValueName(v) + " is an index; only index maps may use it");
        return false;
      }
    for (Value *v : op_.results) {
      if (v->type.dtype == DType::Index) {
        fail("result " + printValueName(v) + " is an index");
        return false;
      }
      for (int64_t d : v->type.shape)
        if (d < 0) {
          fail("result " + printValueName(v) + " has a negative dimension");
          return false;
        }
    }
    return true;
  }

  /// Symbols are step variables of recurrences enclosing the op.
  void checkSymbols() {
    if (!op_.symbols.empty() && op_.kind != OpKind::Remap && op_.kind != OpKind::ScatterAdd &&
        op_.kind != OpKind::Contract)
      fail("only remap, scatter_add and contract take symbols");
    for (const Value *s : op_.symbols) {
      if (!s || s->type.dtype != DType::Index || !s->owner) {
        fail("symbol " + printValueName(s) + " is not a recurrence step variable");
        continue;
      }
      bool enclosing = !op_.parent;
      for (const Region *r = op_.parent; r && !enclosing;
           r = r->parentOp ? r->parentOp->parent : nullptr)
        enclosing = r == s->owner;
      if (!enclosing)
        fail("symbol " + printValueName(s) +
             " is not the step variable of an enclosing recurrence");
    }
  }

  void requireF32(size_t k) {
    if (operandType(k).dtype != DType::F32)
      fail("operand " + printValueName(op_.operands[k]) + " must be f32, not " +
           operandType(k).str());
  }

  void checkLeaf() {
    DType dt = result().type.dtype;
    switch (op_.kind) {
    case OpKind::Constant:
      if (dt != DType::F32 && dt != DType::I32)
        fail("a constant is f32 or i32, not " + result().type.str());
      if (dt == DType::I32 && op_.value != static_cast<int32_t>(op_.value))
        fail("an i32 constant holds a whole number");
      return;
    case OpKind::Iota:
      if (dt != DType::I32)
        fail("iota gives i32, not " + result().type.str());
      if (op_.axes.size() != 1)
        fail("iota takes one axis");
      else if (op_.axes[0] < 0 || op_.axes[0] >= result().type.rank())
        fail("axis " + std::to_string(op_.axes[0]) + " out of range for rank " +
             std::to_string(result().type.rank()));
      return;
    default:
      if (op_.name.empty())
        fail("has no name");
      if (op_.kind == OpKind::Input ? dt == DType::Index : dt != DType::F32)
        fail(std::string("a ") + op_.mnemonic() + " cannot be " + result().type.str());
      return;
    }
  }

  void checkElementwise() {
    size_t n = op_.operands.size();
    bool comparison = isComparison(op_.kind);
    if (op_.kind == OpKind::Where) {
      if (operandType(1).dtype != operandType(2).dtype)
        fail("where's branches differ in type: " + operandType(1).str() + " and " +
             operandType(2).str());
    } else {
      for (size_t k = 0; k < n; ++k)
        if (!comparison)
          requireF32(k);
    }
    std::vector<int64_t> shape;
    for (size_t k = 0; k < n; ++k) {
      const auto &s = operandType(k).shape;
      if (s.empty())
        continue;
      if (!shape.empty() && shape != s) {
        fail("operand shapes " + shapeStr(shape) + " and " + shapeStr(s) + " differ");
        return;
      }
      shape = s;
    }
    DType dt = op_.kind == OpKind::Where ? operandType(1).dtype : DType::F32;
    TensorType want{dt, shape};
    if (result().type != want)
      fail("result type " + result().type.str() + " should be " + want.str());
  }

  std::string loopVarName(int v) const {
    int rank = static_cast<int>(result().type.rank());
    if (op_.kind == OpKind::Contract && !op_.outMap.empty())
      return "r" + std::to_string(v);
    if (op_.kind == OpKind::Contract && v >= rank)
      return "r" + std::to_string(v - rank);
    return "d" + std::to_string(v);
  }

  void checkAffine(const Affine &a) {
    for (auto &[v, c] : a.terms) {
      if (v >= 0 && v >= op_.numLoops())
        fail("loop variable " + loopVarName(v) + " out of range: the op has " +
             std::to_string(op_.numLoops()) + " loop variables");
      if (v < 0 && static_cast<size_t>(-(v + 1)) >= op_.symbols.size())
        fail("symbol number " + std::to_string(-(v + 1)) + " out of range: the op has " +
             std::to_string(op_.symbols.size()) + " symbols");
    }
  }

  /// Checks map `m`, `what` ("the map of operand %x"), which positions
  /// `target` ("the operand", "the result") of rank `rank`. Indirect
  /// positions are allowed where `indirectUsed` is given; it records the
  /// operands they read.
  void checkMap(const std::string &what, const IndexMap &m, const char *target, int64_t rank,
                std::vector<bool> *indirectUsed) {
    if (static_cast<int64_t>(m.size()) != rank) {
      fail(what + " has " + std::to_string(m.size()) + " axes; " + target + " has rank " +
           std::to_string(rank));
      return;
    }
    for (const AxisIndex &ax : m) {
      checkAffine(ax.pos);
      if (!ax.isIndirect()) {
        if (!ax.indirectAt.empty())
          fail(what + " has an indirect position without an operand");
        continue;
      }
      if (!indirectUsed) {
        fail("indirect index in a " + std::string(op_.mnemonic()) + " (" + what + ")");
        continue;
      }
      if (ax.indirect < 1 || static_cast<size_t>(ax.indirect) >= op_.operands.size()) {
        fail("indirect operand number " + std::to_string(ax.indirect) + " out of range");
        continue;
      }
      (*indirectUsed)[ax.indirect] = true;
      if (static_cast<int64_t>(ax.indirectAt.size()) != operandType(ax.indirect).rank())
        fail("indirect read of " + printValueName(op_.operands[ax.indirect]) + " has " +
             std::to_string(ax.indirectAt.size()) + " positions for rank " +
             std::to_string(operandType(ax.indirect).rank()));
      for (const Affine &a : ax.indirectAt)
        checkAffine(a);
    }
  }

  std::string operandMapName(size_t k) const {
    return "the map of operand " + printValueName(op_.operands[k]);
  }

  /// The map of a remap or scatter_add, positioning `target` of rank
  /// `rank`, and the i32 operands 1..n its indirect axes read.
  void checkGatherMap(const std::string &what, const char *target, int64_t rank) {
    if (op_.maps.size() != 1) {
      fail(std::string(op_.mnemonic()) + " takes one map, has " + std::to_string(op_.maps.size()));
      return;
    }
    std::vector<bool> used(op_.operands.size(), false);
    for (size_t k = 1; k < op_.operands.size(); ++k)
      if (operandType(k).dtype != DType::I32)
        fail("indirect operand " + printValueName(op_.operands[k]) + " must be i32, not " +
             operandType(k).str());
    checkMap(what, op_.maps[0], target, rank, &used);
    for (size_t k = 1; k < op_.operands.size(); ++k)
      if (!used[k])
        fail("indirect operand " + printValueName(op_.operands[k]) + " is not read by the map");
  }

  void checkRemap() {
    checkGatherMap(operandMapName(0), "the operand", operandType(0).rank());
    if (result().type.dtype != operandType(0).dtype)
      fail("result type " + result().type.str() + " differs in element type from the source's " +
           operandType(0).str());
  }

  /// scatter_add's map positions the result; its loops are the source's axes.
  void checkScatter() {
    checkGatherMap("the map", "the result", result().type.rank());
    requireF32(0);
    if (result().type.dtype != DType::F32)
      fail("result type " + result().type.str() + " is not f32");
  }

  void checkContract() {
    if (op_.maps.size() != op_.operands.size()) {
      fail("has " + std::to_string(op_.maps.size()) + " maps for " +
           std::to_string(op_.operands.size()) + " operands");
      return;
    }
    for (size_t k = 0; k < op_.operands.size(); ++k) {
      requireF32(k);
      checkMap(operandMapName(k), op_.maps[k], "the operand", operandType(k).rank(), nullptr);
    }
    // An output map is affine: where a loop point lands must not depend on
    // data, so that the op stays a plain accumulation of products.
    if (!op_.outMap.empty())
      checkMap("the output map", op_.outMap, "the result", result().type.rank(), nullptr);
    for (int64_t n : op_.reductionSizes)
      if (n <= 0)
        fail("reduction size " + std::to_string(n) + " is not positive");
    if (result().type.dtype != DType::F32)
      fail("result type " + result().type.str() + " is not f32");
  }

  void checkReduceOrNormalize() {
    requireF32(0);
    const TensorType &in = operandType(0);
    const auto &axes = op_.axes;
    for (size_t i = 0; i < axes.size(); ++i) {
      if (axes[i] < 0 || axes[i] >= in.rank())
        return fail("axis " + std::to_string(axes[i]) + " out of range for rank " +
                    std::to_string(in.rank()));
      if (i && axes[i] <= axes[i - 1])
        return fail("axes are not sorted and unique");
    }
    if (op_.kind == OpKind::ArgMax && axes.size() != 1)
      return fail("argmax takes one axis");
    if (op_.opClass() == OpClass::Normalize) {
      if (axes.empty())
        fail("normalizes over no axis");
      if (result().type != in)
        fail("result type " + result().type.str() + " differs from the operand's " + in.str());
      return;
    }
    TensorType want{op_.kind == OpKind::ArgMax ? DType::I32 : DType::F32, {}};
    for (int i = 0; i < in.rank(); ++i)
      if (!std::binary_search(axes.begin(), axes.end(), i))
        want.shape.push_back(in.shape[i]);
    if (result().type != want)
      fail("result type " + result().type.str() + " should be " + want.str());
  }

  void checkRecurrence() {
    size_t n = op_.operands.size();
    if (op_.carried.size() != n)
      return fail("has " + std::to_string(op_.carried.size()) + " carried entries for " +
                  std::to_string(n) + " operands");
    if (op_.steps <= 0)
      fail("steps must be positive, not " + std::to_string(op_.steps));
    for (size_t i = 0; i < n; ++i) {
      const TensorType &t = operandType(i);
      if (op_.results[i]->type != t)
        fail("result " + std::to_string(i) + " has type " + op_.results[i]->type.str() +
             ", its initial value " + t.str());
      const CarriedInfo &c = op_.carried[i];
      if (c.axis == -1) { // carried whole: no step positions to place
        if (c.offset != 0)
          fail("carried " + std::to_string(i) +
               " has no recurrence axis (axis=-1); its offset must be 0, not " +
               std::to_string(c.offset));
        continue;
      }
      if (c.axis < 0 || c.axis >= t.rank()) {
        fail("axis " + std::to_string(c.axis) + " out of range for rank " +
             std::to_string(t.rank()));
        continue;
      }
      // Step t writes extended position t + offset: all steps must fit.
      int64_t len = t.shape[c.axis];
      if (c.offset < 0 || c.offset + op_.steps > len)
        fail("offset " + std::to_string(c.offset) + " and " + std::to_string(op_.steps) +
             " steps do not fit axis " + std::to_string(c.axis) + " of " + t.str());
    }
    if (!op_.body)
      return;
    const Region &body = *op_.body;
    if (body.parentOp != &op_)
      fail("its body does not point back to it");
    if (body.args.size() != n + 1)
      return fail("its body has " + std::to_string(body.args.size()) + " arguments, expected " +
                  std::to_string(n + 1));
    if (!body.args[0] || body.args[0]->type.dtype != DType::Index)
      fail("its body's first argument is not the index step variable");
    for (size_t i = 0; i < n; ++i)
      if (!body.args[i + 1] || body.args[i + 1]->type != operandType(i))
        fail("body argument " + printValueName(body.args[i + 1]) + " should have type " +
             operandType(i).str());
  }

  void checkYield() {
    const Region *r = op_.parent;
    const Op *rec = r ? r->parentOp : nullptr;
    if (!rec || rec->kind != OpKind::Recurrence)
      return fail("yield outside a recurrence body");
    if (op_.yields.size() != op_.operands.size())
      return fail("has " + std::to_string(op_.yields.size()) + " yield entries for " +
                  std::to_string(op_.operands.size()) + " operands");
    for (size_t i = 0; i < op_.operands.size(); ++i) {
      const YieldInfo &y = op_.yields[i];
      if (y.carried < 0 || static_cast<size_t>(y.carried) >= rec->operands.size() ||
          static_cast<size_t>(y.carried) >= rec->carried.size() || !rec->operands[y.carried]) {
        fail("carried number " + std::to_string(y.carried) + " out of range");
        continue;
      }
      TensorType slice = rec->operands[y.carried]->type;
      int axis = rec->carried[y.carried].axis;
      std::string carriedName = "carried " + std::to_string(y.carried);
      if (y.whole) {
        if (y.delta != 0)
          fail("a whole yield writes no step position, so its delta must be 0, not " +
               std::to_string(y.delta));
        if (operandType(i) != slice)
          fail("operand " + printValueName(op_.operands[i]) + " has type " + operandType(i).str() +
               "; a whole yield into " + carriedName + " writes " + slice.str());
        continue;
      }
      if (axis == -1) {
        fail(carriedName + " is carried whole (axis=-1) and only takes whole yields");
        continue;
      }
      if (axis < 0 || axis >= slice.rank())
        continue; // reported on the recurrence
      slice.shape.erase(slice.shape.begin() + axis);
      if (operandType(i) != slice)
        fail("operand " + printValueName(op_.operands[i]) + " has type " + operandType(i).str() +
             "; " + carriedName + " takes slices of " + slice.str());
    }
  }

  const Op &op_;
  std::vector<std::string> &errs_;
};

/// The graph-wide checks: SSA, regions, named values.
class GraphVerifier {
public:
  explicit GraphVerifier(const Graph &g) : g_(g) {}

  std::vector<std::string> run() {
    checkRegion(g_.top, nullptr);
    checkNamedValues();
    return std::move(errs_);
  }

private:
  void fail(const std::string &msg) { errs_.push_back(msg); }

  void define(const Value *v, const std::string &where) {
    if (!defined_.insert(v).second)
      fail(where + ": " + printValueName(v) + " is defined twice");
    auto [it, fresh] = names_.emplace(v->name, v);
    if (!fresh && it->second != v)
      fail(where + ": the name " + printValueName(v) + " is used by two values");
    visible_.insert(v);
    scope_.push_back(v);
  }

  void checkRegion(const Region &r, const Op *parentOp) {
    size_t scopeStart = scope_.size();
    std::string where = parentOp ? describeOp(*parentOp) : std::string("graph");
    if (r.parentOp != parentOp)
      fail(where + ": a region's parent link is wrong");
    for (size_t i = 0; i < r.args.size(); ++i) {
      const Value *a = r.args[i];
      if (!a || a->owner != &r || a->def || a->index != static_cast<int>(i)) {
        fail(where + ": region argument " + std::to_string(i) + " is not linked to its region");
        continue;
      }
      define(a, where);
    }
    if (parentOp && (r.ops.empty() || r.ops.back()->kind != OpKind::Yield))
      fail(where + ": the body does not end with a yield");
    for (size_t i = 0; i < r.ops.size(); ++i)
      checkOp(*r.ops[i], r, i + 1 == r.ops.size());
    for (size_t i = scopeStart; i < scope_.size(); ++i)
      visible_.erase(scope_[i]);
    scope_.resize(scopeStart);
  }

  void checkOp(const Op &op, const Region &r, bool last) {
    std::string where = describeOp(op);
    if (op.parent != &r)
      fail(where + ": its parent link is wrong");
    if (op.kind == OpKind::Yield && !(last && r.parentOp))
      fail(where + ": a yield must be the last op of a recurrence body");
    for (const Value *v : op.operands)
      if (v && !visible_.count(v))
        fail(where + ": operand " + printValueName(v) + " is not defined before its use");
    for (const Value *v : op.symbols)
      if (v && !visible_.count(v))
        fail(where + ": symbol " + printValueName(v) + " is not defined before its use");
    for (const std::string &m : verifyOp(op))
      fail(where + ": " + m);
    if (op.body)
      checkRegion(*op.body, &op);
    for (size_t i = 0; i < op.results.size(); ++i) {
      const Value *v = op.results[i];
      if (!v)
        continue;
      if (v->def != &op || v->index != static_cast<int>(i) || v->owner)
        fail(where + ": result " + std::to_string(i) + " is not linked to its op");
      define(v, where);
    }
  }

  bool isTopLevel(const Value *v) const {
    if (!v)
      return false;
    if (v->def)
      return v->def->parent == &g_.top;
    return v->owner == &g_.top;
  }

  void checkNamed(const char *what, const NamedValue &nv) {
    std::string where = std::string(what) + " \"" + nv.name + "\"";
    if (!isTopLevel(nv.value))
      fail(where + ": " + printValueName(nv.value) + " is not a top-level value");
  }

  void checkNamedValues() {
    for (auto &o : g_.outputs)
      checkNamed("output", o);
    if (g_.loss.value) {
      checkNamed("minimize", g_.loss);
      if (g_.loss.value->type != TensorType::f32({}))
        fail("minimize \"" + g_.loss.name + "\": the loss must be f32[], not " +
             g_.loss.value->type.str());
    }
    for (auto &m : g_.metrics)
      checkNamed("metric", m);
    for (auto &gr : g_.gradients)
      checkNamed("gradient", gr);
    for (auto &u : g_.updates) {
      std::string where = "update " + printValueName(u.state);
      if (!isTopLevel(u.state) || !u.state->def || u.state->def->kind != OpKind::State)
        fail(where + ": not the result of a state leaf");
      if (!isTopLevel(u.value))
        fail(where + ": " + printValueName(u.value) + " is not a top-level value");
      else if (u.state && u.state->type != u.value->type)
        fail(where + ": the new value has type " + u.value->type.str() + ", the state " +
             u.state->type.str());
    }
  }

  const Graph &g_;
  std::vector<std::string> errs_;
  std::unordered_set<const Value *> defined_, visible_;
  std::vector<const Value *> scope_; // values visible now, innermost region last
  std::unordered_map<std::string, const Value *> names_;
};

} // namespace

std::vector<std::string> verifyOp(const Op &op) {
  std::vector<std::string> errs;
  OpChecker(op, errs).run();
  return errs;
}

std::vector<std::string> verifyGraph(const Graph &g) { return GraphVerifier(g).run(); }

} // namespace gradc::ir
