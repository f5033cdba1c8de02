//===- ir/Builder.h - Creating ops with their result types ----------------===//
//
// Every op is created through the Builder, which computes the result type
// from the operands and attributes and checks the op's own invariants with
// internal assertions (a front end that hands it ill-typed operands has a
// bug). Ops are appended to the current region at the current location.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"

#include <map>

namespace gradc::ir {

class Builder {
public:
  explicit Builder(Graph &g) : g_(g), region_(&g.top) {}

  Graph &graph() { return g_; }
  void setRegion(Region *r) {
    region_ = r;
    insertAt_ = -1;
  }
  /// New ops go before position `index` of `r` (then after each other).
  void setInsertionPoint(Region *r, size_t index) {
    region_ = r;
    insertAt_ = static_cast<long>(index);
  }
  Region *region() const { return region_; }
  void setLoc(SourceLoc l) { loc_ = l; }
  SourceLoc loc() const { return loc_; }
  void setBackward(bool b) { backward_ = b; }

  /// input, param, state, noise: named leaves.
  Value *leaf(OpKind kind, const std::string &name, TensorType type, InitSpec init = {});
  /// A tensor of `shape` filled with `v` (rank 0 by default); an i32
  /// constant holds a whole number.
  Value *constant(double v, std::vector<int64_t> shape = {}, DType dtype = DType::F32);
  /// An i32 tensor whose value is the position along `axis`.
  Value *iota(std::vector<int64_t> shape, int axis);
  Value *unary(OpKind kind, Value *x);
  Value *powc(Value *x, double exponent);
  /// Elementwise; one operand may be rank 0. Comparisons give f32 0/1.
  Value *binary(OpKind kind, Value *a, Value *b);
  Value *where(Value *cond, Value *a, Value *b);
  /// result[d] = src[map(d)]; `indirect` are the int tensors the map's
  /// indirect axes read (operands 1..n of the op).
  Value *remap(Value *src, IndexMap map, std::vector<int64_t> shape,
               std::vector<Value *> indirect = {}, std::vector<Value *> symbols = {});
  /// result[d] = sum_r prod_k factors[k][maps[k](d, r)].
  Value *contract(std::vector<Value *> factors, std::vector<IndexMap> maps,
                  std::vector<int64_t> shape, std::vector<int64_t> reductionSizes,
                  std::vector<Value *> symbols = {});
  /// result = 0; result[map(d)] += src[d] for every position d of src.
  Value *scatterAdd(Value *src, IndexMap map, std::vector<int64_t> shape,
                    std::vector<Value *> indirect = {}, std::vector<Value *> symbols = {});
  /// result = 0; result[outMap(L)] += prod_k factors[k][maps[k](L)] over the
  /// loops L of sizes `loopSizes`.
  Value *contractInto(std::vector<Value *> factors, std::vector<IndexMap> maps, IndexMap outMap,
                      std::vector<int64_t> shape, std::vector<int64_t> loopSizes,
                      std::vector<Value *> symbols = {});
  Value *reduce(OpKind kind, Value *x, std::vector<int> axes);
  Value *normalize(OpKind kind, Value *x, std::vector<int> axes);
  /// Creates a recurrence whose body region has the step variable and one
  /// argument per carried tensor; fill the body, then call yield() in it.
  Op *recurrence(std::vector<Value *> inits, std::vector<CarriedInfo> carried, int64_t steps,
                 bool reverse);
  Op *yield(std::vector<Value *> slices, std::vector<YieldInfo> info);

  /// Copies `op` (and, deeply, its body) into the current region, its
  /// operands and symbols renamed through `vmap` (values not in it are kept);
  /// vmap gains the copies' results and body arguments.
  Op *clone(const Op &op, std::map<const Value *, Value *> &vmap);

  /// Gives a value a (unique) name derived from `name`.
  void name(Value *v, const std::string &name) { g_.rename(v, name); }

private:
  Op *create(OpKind kind, std::vector<Value *> operands, std::vector<TensorType> resultTypes,
             const std::string &name = "");

  Graph &g_;
  Region *region_;
  SourceLoc loc_;
  bool backward_ = false;
  long insertAt_ = -1; ///< -1: append to the region
};

} // namespace gradc::ir
