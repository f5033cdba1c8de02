//===- ir/Graph.cpp - Values, ops, regions and the model graph ------------===//
#include "ir/Graph.h"

#include <algorithm>
#include <cstdio>

namespace gradc::ir {

static std::string fmtNumber(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

std::string InitSpec::str() const {
  switch (kind) {
  case None:
    return "none()";
  case Zeros:
    return "zeros()";
  case Ones:
    return "ones()";
  case Constant:
    return "constant(" + fmtNumber(a) + ")";
  case Normal:
    return "normal(" + fmtNumber(a) + ")";
  case Uniform:
    return "uniform(" + fmtNumber(a) + ", " + fmtNumber(b) + ")";
  case He:
    return "he(fan_in=" + std::to_string(fanIn) + ")";
  case Lecun:
    return "lecun(fan_in=" + std::to_string(fanIn) + ")";
  case Xavier:
    return "xavier(fan_in=" + std::to_string(fanIn) + ", fan_out=" + std::to_string(fanOut) +
           ")";
  }
  return "?";
}

std::string Graph::uniqueName(const std::string &base) {
  auto taken = [&](const std::string &n) {
    return std::binary_search(usedNames_.begin(), usedNames_.end(), n);
  };
  std::string name = base.empty() ? std::to_string(tempCounter_++) : base;
  for (int k = 1; taken(name); ++k)
    name = base.empty() ? std::to_string(tempCounter_++) : base + "." + std::to_string(k);
  usedNames_.insert(std::upper_bound(usedNames_.begin(), usedNames_.end(), name), name);
  return name;
}

Value *Graph::newValue(TensorType type, const std::string &name) {
  auto v = std::make_unique<Value>();
  v->type = std::move(type);
  v->name = uniqueName(name);
  values_.push_back(std::move(v));
  return values_.back().get();
}

void Graph::rename(Value *v, const std::string &name) {
  auto it = std::lower_bound(usedNames_.begin(), usedNames_.end(), v->name);
  if (it != usedNames_.end() && *it == v->name)
    usedNames_.erase(it);
  v->name = uniqueName(name);
}

Value *Graph::findValue(const std::string &name) const {
  for (auto &v : values_)
    if (v->name == name)
      return v.get();
  return nullptr;
}

std::vector<Op *> Graph::leaves(OpKind kind) const {
  std::vector<Op *> r;
  for (auto &op : top.ops)
    if (op->kind == kind)
      r.push_back(op.get());
  return r;
}

} // namespace gradc::ir
