//===- ir/Builder.cpp - Creating ops with their result types --------------===//
#include "ir/Builder.h"

#include "support/Assert.h"

#include <algorithm>

namespace gradc::ir {

Op *Builder::create(OpKind kind, std::vector<Value *> operands,
                    std::vector<TensorType> resultTypes, const std::string &name) {
  auto op = std::make_unique<Op>();
  op->kind = kind;
  op->operands = std::move(operands);
  op->loc = loc_;
  op->backward = backward_;
  op->parent = region_;
  for (size_t i = 0; i < resultTypes.size(); ++i) {
    Value *v = g_.newValue(resultTypes[i], i == 0 ? name : "");
    v->def = op.get();
    v->index = static_cast<int>(i);
    op->results.push_back(v);
  }
  Op *raw = op.get();
  if (insertAt_ < 0) {
    region_->ops.push_back(std::move(op));
  } else {
    region_->ops.insert(region_->ops.begin() + insertAt_, std::move(op));
    ++insertAt_;
  }
  return raw;
}

Value *Builder::leaf(OpKind kind, const std::string &name, TensorType type, InitSpec init) {
  GRADC_ASSERT(opClassOf(kind) == OpClass::Leaf, "leaf() of a non-leaf op");
  Op *op = create(kind, {}, {type}, name);
  op->name = name;
  op->init = init;
  return op->result();
}

Value *Builder::constant(double v, std::vector<int64_t> shape, DType dtype) {
  GRADC_ASSERT(dtype != DType::Index && (dtype == DType::F32 || v == static_cast<int32_t>(v)),
               "an i32 constant must hold a whole number");
  Op *op = create(OpKind::Constant, {}, {TensorType{dtype, std::move(shape)}});
  op->value = v;
  return op->result();
}

Value *Builder::iota(std::vector<int64_t> shape, int axis) {
  GRADC_ASSERT(axis >= 0 && axis < static_cast<int>(shape.size()), "iota axis out of range");
  Op *op = create(OpKind::Iota, {}, {TensorType::i32(std::move(shape))});
  op->axes = {axis};
  return op->result();
}

Value *Builder::unary(OpKind kind, Value *x) {
  GRADC_ASSERT(opClassOf(kind) == OpClass::Unary, "unary() of a non-unary op");
  GRADC_ASSERT(x->type.dtype == DType::F32, "unary op on a non-f32 value");
  return create(kind, {x}, {x->type})->result();
}

Value *Builder::powc(Value *x, double exponent) {
  Value *r = unary(OpKind::PowC, x);
  r->def->value = exponent;
  return r;
}

/// The shape of an elementwise result: the operands' common shape, where
/// rank-0 operands broadcast.
static std::vector<int64_t> elementwiseShape(const std::vector<Value *> &xs) {
  std::vector<int64_t> shape;
  for (Value *x : xs)
    if (x->type.rank() > 0) {
      GRADC_ASSERT(shape.empty() || shape == x->type.shape,
                   "elementwise operands of different shapes: " + x->type.str());
      shape = x->type.shape;
    }
  return shape;
}

Value *Builder::binary(OpKind kind, Value *a, Value *b) {
  GRADC_ASSERT(opClassOf(kind) == OpClass::Binary, "binary() of a non-binary op");
  auto shape = elementwiseShape({a, b});
  if (!isComparison(kind))
    GRADC_ASSERT(a->type.dtype == DType::F32 && b->type.dtype == DType::F32,
                 std::string("arithmetic on a non-f32 value in ") + opMnemonic(kind));
  return create(kind, {a, b}, {TensorType::f32(shape)})->result();
}

Value *Builder::where(Value *cond, Value *a, Value *b) {
  auto shape = elementwiseShape({cond, a, b});
  GRADC_ASSERT(a->type.dtype == b->type.dtype, "where branches of different types");
  return create(OpKind::Where, {cond, a, b}, {TensorType{a->type.dtype, shape}})->result();
}

Value *Builder::remap(Value *src, IndexMap map, std::vector<int64_t> shape,
                      std::vector<Value *> indirect, std::vector<Value *> symbols) {
  GRADC_ASSERT(static_cast<int64_t>(map.size()) == src->type.rank(),
               "remap map rank differs from the source rank");
  std::vector<Value *> operands{src};
  for (Value *v : indirect) {
    GRADC_ASSERT(v->type.dtype == DType::I32, "indirect index operand is not i32");
    operands.push_back(v);
  }
  Op *op = create(OpKind::Remap, std::move(operands), {TensorType{src->type.dtype, std::move(shape)}});
  op->maps = {std::move(map)};
  op->symbols = std::move(symbols);
  return op->result();
}

Value *Builder::contract(std::vector<Value *> factors, std::vector<IndexMap> maps,
                         std::vector<int64_t> shape, std::vector<int64_t> reductionSizes,
                         std::vector<Value *> symbols) {
  GRADC_ASSERT(factors.size() == maps.size() && !factors.empty(), "contract operand/map count");
  for (size_t k = 0; k < factors.size(); ++k) {
    GRADC_ASSERT(factors[k]->type.dtype == DType::F32, "contract of a non-f32 value");
    GRADC_ASSERT(static_cast<int64_t>(maps[k].size()) == factors[k]->type.rank(),
                 "contract map rank differs from the operand rank");
  }
  Op *op = create(OpKind::Contract, std::move(factors), {TensorType::f32(std::move(shape))});
  op->maps = std::move(maps);
  op->reductionSizes = std::move(reductionSizes);
  op->symbols = std::move(symbols);
  return op->result();
}

Value *Builder::scatterAdd(Value *src, IndexMap map, std::vector<int64_t> shape,
                          std::vector<Value *> indirect, std::vector<Value *> symbols) {
  GRADC_ASSERT(map.size() == shape.size(), "scatter_add map rank differs from the result rank");
  GRADC_ASSERT(src->type.dtype == DType::F32, "scatter_add of a non-f32 value");
  std::vector<Value *> operands{src};
  for (Value *v : indirect) {
    GRADC_ASSERT(v->type.dtype == DType::I32, "indirect index operand is not i32");
    operands.push_back(v);
  }
  Op *op = create(OpKind::ScatterAdd, std::move(operands), {TensorType::f32(std::move(shape))});
  op->maps = {std::move(map)};
  op->symbols = std::move(symbols);
  return op->result();
}

Value *Builder::contractInto(std::vector<Value *> factors, std::vector<IndexMap> maps,
                             IndexMap outMap, std::vector<int64_t> shape,
                             std::vector<int64_t> loopSizes, std::vector<Value *> symbols) {
  GRADC_ASSERT(outMap.size() == shape.size(), "contract output map rank differs from the result");
  Value *r = contract(std::move(factors), std::move(maps), std::move(shape),
                      std::move(loopSizes), std::move(symbols));
  r->def->outMap = std::move(outMap);
  return r;
}

Value *Builder::reduce(OpKind kind, Value *x, std::vector<int> axes) {
  GRADC_ASSERT(opClassOf(kind) == OpClass::Reduce, "reduce() of a non-reduction");
  std::sort(axes.begin(), axes.end());
  std::vector<int64_t> shape;
  for (int i = 0; i < x->type.rank(); ++i)
    if (!std::binary_search(axes.begin(), axes.end(), i))
      shape.push_back(x->type.shape[i]);
  DType dt = kind == OpKind::ArgMax ? DType::I32 : DType::F32;
  if (kind == OpKind::ArgMax)
    GRADC_ASSERT(axes.size() == 1, "argmax over more than one axis");
  Op *op = create(kind, {x}, {TensorType{dt, shape}});
  op->axes = std::move(axes);
  return op->result();
}

Value *Builder::normalize(OpKind kind, Value *x, std::vector<int> axes) {
  GRADC_ASSERT(opClassOf(kind) == OpClass::Normalize, "normalize() of a non-normalization");
  std::sort(axes.begin(), axes.end());
  Op *op = create(kind, {x}, {x->type});
  op->axes = std::move(axes);
  return op->result();
}

Op *Builder::recurrence(std::vector<Value *> inits, std::vector<CarriedInfo> carried,
                        int64_t steps, bool reverse) {
  GRADC_ASSERT(inits.size() == carried.size(), "recurrence carried count");
  std::vector<TensorType> types;
  for (Value *v : inits)
    types.push_back(v->type);
  Op *op = create(OpKind::Recurrence, inits, types);
  op->carried = std::move(carried);
  op->steps = steps;
  op->reverse = reverse;
  op->body = std::make_unique<Region>();
  op->body->parentOp = op;
  Value *t = g_.newValue(TensorType::index(), "t");
  t->owner = op->body.get();
  t->index = 0;
  op->body->args.push_back(t);
  for (size_t i = 0; i < inits.size(); ++i) {
    Value *a = g_.newValue(inits[i]->type, inits[i]->name + ".carried");
    a->owner = op->body.get();
    a->index = static_cast<int>(i + 1);
    op->body->args.push_back(a);
  }
  return op;
}

Op *Builder::clone(const Op &op, std::map<const Value *, Value *> &vmap) {
  auto mapped = [&](Value *v) {
    auto it = vmap.find(v);
    return it == vmap.end() ? v : it->second;
  };
  std::vector<Value *> operands;
  for (Value *v : op.operands)
    operands.push_back(mapped(v));
  std::vector<TensorType> types;
  for (Value *v : op.results)
    types.push_back(v->type);
  Op *c = create(op.kind, operands, types);
  for (size_t i = 0; i < op.results.size(); ++i) {
    g_.rename(c->results[i], op.results[i]->name);
    vmap[op.results[i]] = c->results[i];
  }
  for (Value *v : op.symbols)
    c->symbols.push_back(mapped(v));
  c->loc = op.loc;
  c->name = op.name;
  c->init = op.init;
  c->value = op.value;
  c->axes = op.axes;
  c->maps = op.maps;
  c->outMap = op.outMap;
  c->reductionSizes = op.reductionSizes;
  c->steps = op.steps;
  c->reverse = op.reverse;
  c->carried = op.carried;
  c->yields = op.yields;
  if (op.body) {
    c->body = std::make_unique<Region>();
    c->body->parentOp = c;
    for (Value *a : op.body->args) {
      Value *na = g_.newValue(a->type, a->name);
      na->owner = c->body.get();
      na->index = a->index;
      c->body->args.push_back(na);
      vmap[a] = na;
    }
    Region *saved = region_;
    region_ = c->body.get();
    for (auto &inner : op.body->ops)
      clone(*inner, vmap);
    region_ = saved;
  }
  return c;
}

Op *Builder::yield(std::vector<Value *> slices, std::vector<YieldInfo> info) {
  GRADC_ASSERT(slices.size() == info.size(), "yield operand/info count");
  Op *op = create(OpKind::Yield, std::move(slices), {});
  op->yields = std::move(info);
  return op;
}

} // namespace gradc::ir
