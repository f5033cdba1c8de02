//===- api/InputFill.cpp - Inputs drawn for checks and benchmarks ---------===//
#include "api/InputFill.h"

#include "runtime/Random.h"

#include <cmath>
#include <functional>
#include <set>

namespace gradc::api {

/// The size of the axes an int input indexes: the smallest axis any
/// indirect read through it (or through a copy of it) addresses.
int64_t indexRange(const ir::Graph &g, const ir::Value *input) {
  int64_t best = 0;
  std::set<const ir::Value *> aliases{input};
  std::function<void(const ir::Region &)> visit = [&](const ir::Region &r) {
    for (auto &op : r.ops) {
      if ((op->kind == ir::OpKind::Remap && aliases.count(op->operand(0))))
        aliases.insert(op->result());
      if (op->kind == ir::OpKind::Remap || op->kind == ir::OpKind::ScatterAdd) {
        const ir::IndexMap &m = op->maps[0];
        for (size_t a = 0; a < m.size(); ++a) {
          if (!m[a].isIndirect() || !aliases.count(op->operand(m[a].indirect)))
            continue;
          int64_t size = op->kind == ir::OpKind::Remap ? op->operand(0)->type.shape[a]
                                                       : op->result()->type.shape[a];
          int64_t n = size - m[a].pos.constant;
          if (n > 0 && (best == 0 || n < best))
            best = n;
        }
      }
      if (op->body)
        visit(*op->body);
    }
  };
  visit(g.top);
  return best > 0 ? best : 2;
}

/// Fills every leaf the user did not give: params from their initializers,
/// f32 inputs normal(0, 1), int inputs uniform over their index range.
void drawMissingInputs(const ir::Graph &g, uint64_t seed,
                       const std::function<bool(const std::string &)> &given,
                       const std::function<void(const ir::Op &, runtime::DTensor)> &set) {
  runtime::Random rng(seed, runtime::kInputStream);
  for (auto &op : g.top.ops) {
    if (op->kind != ir::OpKind::Input || given(op->name))
      continue;
    runtime::DTensor t = runtime::DTensor::zeros(op->result()->type);
    bool isInt = op->result()->type.dtype == ir::DType::I32;
    int64_t range = isInt ? indexRange(g, op->result()) : 0;
    for (double &v : t.data)
      v = isInt ? std::floor(rng.uniform() * static_cast<double>(range)) : rng.normal();
    set(*op, std::move(t));
  }
}

void fillMissingInputs(runtime::Engine &in, uint64_t seed) {
  drawMissingInputs(
      in.graph(), seed, [&](const std::string &name) { return in.has(name); },
      [&](const ir::Op &op, runtime::DTensor t) { in.set(op.name, t); });
}

} // namespace gradc::api
