//===- runtime/Interpreter.cpp - Reference interpreter of the IR ----------===//
#include "runtime/Interpreter.h"

#include "runtime/Initializers.h"
#include "runtime/InterpreterOps.h"
#include "support/Assert.h"

#include <algorithm>
#include <cmath>

namespace gradc::runtime {

using ir::OpKind;

DTensor DTensor::zeros(ir::TensorType type) {
  DTensor r;
  r.data.assign(static_cast<size_t>(type.numElements()), 0.0);
  r.type = std::move(type);
  return r;
}

DTensor DTensor::scalar(double v, ir::DType dtype) { return DTensor{{dtype, {}}, {v}}; }

std::vector<int64_t> DTensor::strides() const {
  std::vector<int64_t> s(type.shape.size(), 1);
  for (size_t a = s.size(); a-- > 1;)
    s[a - 1] = s[a] * type.shape[a];
  return s;
}

static bool isNamedLeaf(OpKind k) {
  return k == OpKind::Input || k == OpKind::Param || k == OpKind::State || k == OpKind::Noise;
}

/// Values of f32 leaves are drawn in double and stored as native code
/// stores them, so that the interpreter and compiled code start equal.
static void roundToF32(const ir::TensorType &t, std::vector<double> &values) {
  if (t.dtype != ir::DType::F32)
    return;
  for (double &v : values)
    v = static_cast<double>(static_cast<float>(v));
}

Interpreter::Interpreter(const ir::Graph &g) : g_(g) {
  for (const auto &op : g.top.ops)
    if (isNamedLeaf(op->kind)) {
      bool fresh = leafOps_.emplace(op->name, op.get()).second;
      GRADC_ASSERT(fresh, "two leaves named '" + op->name + "'");
    }
}

const ir::Op *Interpreter::findLeaf(const std::string &name) const {
  auto it = leafOps_.find(name);
  return it == leafOps_.end() ? nullptr : it->second;
}

bool Interpreter::has(const std::string &leafName) const { return leaves_.count(leafName) != 0; }

DTensor Interpreter::leafValue(const std::string &leafName) const {
  auto it = leaves_.find(leafName);
  GRADC_ASSERT(it != leaves_.end(), "leaf '" + leafName + "' has no value");
  return it->second;
}

void Interpreter::set(const std::string &leafName, DTensor value) {
  const ir::Op *leaf = findLeaf(leafName);
  GRADC_ASSERT(leaf, "no input, param, state or noise named '" + leafName + "'");
  const ir::TensorType &t = leaf->result()->type;
  GRADC_ASSERT(value.type.shape == t.shape,
               "value for '" + leafName + "' has shape " + value.type.str() + ", not " + t.str());
  GRADC_ASSERT(static_cast<int64_t>(value.data.size()) == t.numElements(),
               "value for '" + leafName + "' has the wrong number of elements");
  if (t.dtype == ir::DType::I32)
    for (double v : value.data)
      GRADC_ASSERT(std::nearbyint(v) == v, "non-integer value for int leaf '" + leafName + "'");
  value.type = t;
  leaves_[leafName] = std::move(value);
}

void Interpreter::initParams(uint64_t seed) {
  initializeLeaves(g_, seed, [&](const ir::Op &leaf, std::vector<double> values) {
    const ir::TensorType &t = leaf.result()->type;
    roundToF32(t, values);
    leaves_[leaf.name] = DTensor{t, std::move(values)};
  });
}

void Interpreter::setNoiseSeed(uint64_t seed, uint64_t call) {
  noiseSeed_ = seed;
  noiseCall_ = call;
}

std::vector<std::string> Interpreter::missingInputs() const {
  std::vector<std::string> r;
  for (const auto &op : g_.top.ops)
    if (op->kind == OpKind::Input && !has(op->name))
      r.push_back(op->name);
  return r;
}

void Interpreter::run() {
  values_.clear();
  drawnNoise_.clear();
  // Every noise leaf takes its draws, set or not, so that holding one fixed
  // leaves the others' values unchanged.
  drawNoise(g_, noiseSeed_, noiseCall_, [&](const ir::Op &leaf, std::vector<double> values) {
    const ir::TensorType &t = leaf.result()->type;
    roundToF32(t, values);
    drawnNoise_[leaf.name] = DTensor{t, std::move(values)};
  });
  ++noiseCall_;
  runRegion(g_.top);
}

void Interpreter::applyUpdates() {
  // All new values come from the last run, so one update never sees
  // another's result.
  std::vector<std::pair<std::string, DTensor>> next;
  for (const ir::StateUpdate &u : g_.updates) {
    GRADC_ASSERT(u.state->def && u.state->def->kind == OpKind::State,
                 "update of '" + u.state->name + "', which is not a state leaf");
    DTensor v = get(u.value);
    GRADC_ASSERT(v.type.shape == u.state->type.shape,
                 "update of '" + u.state->name + "' with a value of shape " + v.type.str());
    v.type = u.state->type;
    next.emplace_back(u.state->def->name, std::move(v));
  }
  for (auto &[name, v] : next)
    leaves_[name] = std::move(v);
}

const DTensor &Interpreter::get(const ir::Value *v) const {
  auto it = values_.find(v);
  GRADC_ASSERT(it != values_.end(), "value %" + v->name + " used before it is computed");
  return it->second;
}

DTensor Interpreter::value(const ir::Value *v) const { return get(v); }

DTensor Interpreter::output(const std::string &name) const {
  auto named = [&](const ir::NamedValue &nv) { return nv.value && nv.name == name; };
  if (named(g_.loss))
    return get(g_.loss.value);
  for (const auto *list : {&g_.outputs, &g_.metrics, &g_.gradients})
    for (const ir::NamedValue &nv : *list)
      if (named(nv))
        return get(nv.value);
  if (const ir::Value *v = g_.findValue(name); v && values_.count(v))
    return values_.at(v);
  GRADC_UNREACHABLE("no output or computed value named '" + name + "'");
}

void Interpreter::runRegion(const ir::Region &r) {
  for (const auto &op : r.ops)
    runOp(*op);
}

DTensor Interpreter::evalLeaf(const ir::Op &op) const {
  const ir::TensorType &t = op.result()->type;
  switch (op.kind) {
  case OpKind::Input:
  case OpKind::Param:
  case OpKind::State: {
    auto it = leaves_.find(op.name);
    GRADC_ASSERT(it != leaves_.end(), std::string(op.mnemonic()) + " '" + op.name +
                                          "' has no value (set it, or initParams)");
    return it->second;
  }
  case OpKind::Noise: {
    auto it = leaves_.find(op.name);
    return it != leaves_.end() ? it->second : drawnNoise_.at(op.name);
  }
  case OpKind::Constant: {
    DTensor r = DTensor::zeros(t);
    std::fill(r.data.begin(), r.data.end(), op.value);
    return r;
  }
  case OpKind::Iota: {
    GRADC_ASSERT(op.axes.size() == 1 && op.axes[0] >= 0 && op.axes[0] < t.rank(),
                 "iota without a valid axis");
    DTensor r = DTensor::zeros(t);
    // The position along axis a of linear index i is (i / stride[a]) % size[a].
    int64_t stride = r.strides()[op.axes[0]], size = t.shape[op.axes[0]];
    for (size_t i = 0; i < r.data.size(); ++i)
      r.data[i] = static_cast<double>((static_cast<int64_t>(i) / stride) % size);
    return r;
  }
  default:
    GRADC_UNREACHABLE(std::string("not a leaf: ") + op.mnemonic());
  }
}

void Interpreter::runOp(const ir::Op &op) {
  auto operands = [&] {
    interp::Operands xs;
    for (const ir::Value *v : op.operands)
      xs.push_back(&get(v));
    return xs;
  };
  auto symbols = [&] {
    std::vector<int64_t> s;
    for (const ir::Value *v : op.symbols)
      s.push_back(static_cast<int64_t>(get(v).data.at(0)));
    return s;
  };
  DTensor r;
  switch (op.opClass()) {
  case ir::OpClass::Leaf:
    r = evalLeaf(op);
    break;
  case ir::OpClass::Unary:
    r = interp::evalUnary(op, get(op.operand(0)));
    break;
  case ir::OpClass::Binary:
    r = interp::evalBinary(op, get(op.operand(0)), get(op.operand(1)));
    break;
  case ir::OpClass::Ternary:
    r = interp::evalWhere(op, get(op.operand(0)), get(op.operand(1)), get(op.operand(2)));
    break;
  case ir::OpClass::Remap:
    r = interp::evalRemap(op, operands(), symbols());
    break;
  case ir::OpClass::Scatter:
    r = interp::evalScatterAdd(op, operands(), symbols());
    break;
  case ir::OpClass::Contract:
    r = interp::evalContract(op, operands(), symbols());
    break;
  case ir::OpClass::Reduce:
    r = interp::evalReduce(op, get(op.operand(0)));
    break;
  case ir::OpClass::Normalize:
    r = interp::evalNormalize(op, get(op.operand(0)));
    break;
  case ir::OpClass::Recurrence:
    runRecurrence(op);
    return;
  case ir::OpClass::Yield:
    applyYield(op);
    return;
  }
  GRADC_ASSERT(r.type == op.result()->type, std::string(op.mnemonic()) + " produced " +
                                                r.type.str() + ", not " + op.result()->type.str());
  values_[op.result()] = std::move(r);
}

void Interpreter::runRecurrence(const ir::Op &op) {
  const ir::Region &body = *op.body;
  GRADC_ASSERT(body.args.size() == op.operands.size() + 1 &&
                   op.carried.size() == op.operands.size(),
               "recurrence with mismatched carried tensors");
  GRADC_ASSERT(!body.ops.empty() && body.ops.back()->kind == OpKind::Yield,
               "recurrence body does not end in a yield");
  // The carried buffers live under the body's arguments: the body reads
  // them as they stand, and the yield, which runs after every other body
  // op, writes the step's slices into them.
  for (size_t i = 0; i < op.operands.size(); ++i)
    values_[body.args[i + 1]] = get(op.operand(i));
  for (int64_t s = 0; s < op.steps; ++s) {
    int64_t t = op.reverse ? op.steps - 1 - s : s;
    values_[body.args[0]] = DTensor::scalar(static_cast<double>(t), ir::DType::Index);
    runRegion(body);
  }
  for (size_t i = 0; i < op.operands.size(); ++i) {
    values_[op.result(static_cast<int>(i))] = std::move(values_[body.args[i + 1]]);
    values_.erase(body.args[i + 1]);
  }
}

void Interpreter::applyYield(const ir::Op &yield) {
  const ir::Region &body = *yield.parent;
  GRADC_ASSERT(body.parentOp, "yield outside a recurrence body");
  const ir::Op &rec = *body.parentOp;
  GRADC_ASSERT(yield.yields.size() == yield.operands.size(), "yield operand/info count");
  const int64_t t = static_cast<int64_t>(get(body.args[0]).data.at(0));
  // An operand may be a carried tensor itself (a whole yield copying an
  // accumulator). It stands for the tensor as it was at the start of the
  // step, so it is copied before this yield's writes can change it.
  std::vector<DTensor> copies;
  copies.reserve(yield.operands.size());
  std::vector<const DTensor *> operands;
  for (const ir::Value *v : yield.operands) {
    const bool carried = v->owner == &body && v->index > 0;
    if (carried)
      copies.push_back(get(v));
    operands.push_back(carried ? &copies.back() : &get(v));
  }
  // Slices are written in operand order, so a set followed by an
  // accumulate at one position adds to the value just set.
  for (size_t j = 0; j < yield.operands.size(); ++j) {
    const ir::YieldInfo &info = yield.yields[j];
    GRADC_ASSERT(info.carried >= 0 && info.carried < static_cast<int>(rec.carried.size()),
                 "yield into an unknown carried tensor");
    const ir::CarriedInfo &carried = rec.carried[info.carried];
    DTensor &buf = values_.at(body.args[info.carried + 1]);
    const DTensor &slice = *operands[j];
    const auto &shape = buf.type.shape;
    if (info.whole) {
      GRADC_ASSERT(slice.type.shape == shape,
                   "whole yield " + slice.type.str() + " does not fit carried " + buf.type.str());
      for (size_t i = 0; i < buf.data.size(); ++i)
        buf.data[i] = info.accumulate ? buf.data[i] + slice.data[i] : slice.data[i];
      continue;
    }
    const int axis = carried.axis;
    GRADC_ASSERT(axis >= 0 && axis < static_cast<int>(shape.size()), "carried axis out of range");
    std::vector<int64_t> sliceShape = shape;
    sliceShape.erase(sliceShape.begin() + axis);
    GRADC_ASSERT(slice.type.shape == sliceShape,
                 "yield slice " + slice.type.str() + " does not fit carried " + buf.type.str());
    const int64_t pos = t + carried.offset + info.delta;
    GRADC_ASSERT(pos >= 0 && pos < shape[axis], "yield writes position " + std::to_string(pos) +
                                                    " of a carried axis of size " +
                                                    std::to_string(shape[axis]));
    // View the buffer as [outer, len, inner] and the slice as [outer, inner].
    int64_t outer = 1, inner = 1;
    for (int a = 0; a < axis; ++a)
      outer *= shape[a];
    for (size_t a = axis + 1; a < shape.size(); ++a)
      inner *= shape[a];
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t in = 0; in < inner; ++in) {
        double &dst = buf.data[(o * shape[axis] + pos) * inner + in];
        double src = slice.data[o * inner + in];
        dst = info.accumulate ? dst + src : src;
      }
  }
}

} // namespace gradc::runtime
