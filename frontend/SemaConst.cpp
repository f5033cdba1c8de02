//===- frontend/SemaConst.cpp - Dims, consts and constant expressions -----===//
//
// Dims and consts are evaluated on demand, so a statement may use one that
// is defined further down; a dim defined in terms of itself is an error.
// -D overrides apply to model-level dims whose default is a literal.
//
//===----------------------------------------------------------------------===//
#include "frontend/SemaImpl.h"

#include <cmath>

namespace gradc::sema {

static constexpr int64_t kMaxDim = 2147483647;

//===-- Dims and consts ------------------------------------------------------===//

int64_t SemaImpl::lookupDim(int scope, const std::string &name, SourceLoc loc, bool &found) {
  found = true;
  {
    Scope &s = scopes_[scope];
    auto it = s.dims.find(name);
    if (it != s.dims.end())
      return it->second;
  }
  auto pit = scopes_[scope].pendingDims.find(name);
  if (pit == scopes_[scope].pendingDims.end()) {
    found = false;
    return 0;
  }
  const ast::DimDef *d = pit->second;
  if (scopes_[scope].evaluating.count(name))
    fatalIn(scope, loc, "dim '" + name + "' is defined in terms of itself");
  scopes_[scope].evaluating.insert(name);
  int64_t v;
  bool literal = d->value->as<ast::NumberExpr>() != nullptr;
  auto ov = opts_.dimOverrides.find(name);
  if (scope == 0 && ov != opts_.dimOverrides.end()) {
    if (!literal)
      throw UsageError("-D " + name + ": '" + name +
                       "' is derived from other dims; override the dims it is computed from");
    usedOverrides_.insert(name);
    v = ov->second;
    if (v < 1 || v > kMaxDim)
      throw UsageError("-D " + name + "=" + std::to_string(v) + ": a dim must be in 1 .. " +
                       std::to_string(kMaxDim));
  } else {
    v = evalDimExpr(scope, *d->value);
  }
  if (v < 1 || v > kMaxDim)
    fatalIn(scope, d->loc,
            "dim '" + name + "' = " + std::to_string(v) + " is out of range 1 .. " +
                std::to_string(kMaxDim));
  scopes_[scope].evaluating.erase(name);
  scopes_[scope].dims[name] = v;
  scopes_[scope].pendingDims.erase(name);
  if (scope == 0)
    model_->dims[name] = v;
  return v;
}

bool SemaImpl::lookupConst(int scope, const std::string &name, SourceLoc loc, double &out) {
  {
    auto it = scopes_[scope].consts.find(name);
    if (it != scopes_[scope].consts.end()) {
      out = it->second;
      return true;
    }
  }
  auto pit = scopes_[scope].pendingConsts.find(name);
  if (pit == scopes_[scope].pendingConsts.end())
    return false;
  if (scopes_[scope].evaluating.count(name))
    fatalIn(scope, loc, "const '" + name + "' is defined in terms of itself");
  scopes_[scope].evaluating.insert(name);
  const ast::ConstStmt *c = pit->second;
  out = evalConstExpr(scope, *c->value);
  scopes_[scope].evaluating.erase(name);
  scopes_[scope].consts[name] = out;
  scopes_[scope].pendingConsts.erase(name);
  return true;
}

/// Integer arithmetic on dims with overflow checks: shapes, bounds,
/// subscripts. With `report`, a problem is a diagnostic; without, it throws
/// NotConstant (callers probing whether an expression is a constant).
int64_t SemaImpl::evalDim(int scope, const ast::Expr &e, bool report) {
  auto fail = [&](SourceLoc loc, const std::string &msg) -> int64_t {
    if (report)
      fatalIn(scope, loc, msg);
    throw NotConstant();
  };
  if (auto *n = e.as<ast::NumberExpr>()) {
    if (!n->isInteger || n->value > 1e15)
      return fail(e.loc, "a size must be a whole number, not '" + n->text + "'");
    return static_cast<int64_t>(n->value);
  }
  if (auto *nm = e.as<ast::NameExpr>()) {
    bool found;
    int64_t v = lookupDim(scope, nm->name, e.loc, found);
    if (found)
      return v;
    double c;
    if (report && lookupConst(scope, nm->name, e.loc, c))
      return fail(e.loc, "'" + nm->name + "' is a const, not a dim; sizes use dims");
    return fail(e.loc, "unknown dim '" + nm->name + "'");
  }
  if (auto *u = e.as<ast::UnaryExpr>())
    return -evalDim(scope, *u->operand, report);
  if (auto *b = e.as<ast::BinaryExpr>()) {
    int64_t l = evalDim(scope, *b->lhs, report), r = evalDim(scope, *b->rhs, report), out = 0;
    bool overflow = false;
    switch (b->op) {
    case ast::BinaryOp::Add:
      overflow = __builtin_add_overflow(l, r, &out);
      break;
    case ast::BinaryOp::Sub:
      overflow = __builtin_sub_overflow(l, r, &out);
      break;
    case ast::BinaryOp::Mul:
      overflow = __builtin_mul_overflow(l, r, &out);
      break;
    case ast::BinaryOp::Div:
      if (r == 0)
        return fail(b->opLoc, "division by zero in a size");
      out = l / r;
      if ((l % r != 0) && ((l < 0) != (r < 0)))
        --out; // rounds down
      break;
    default:
      return fail(b->opLoc, std::string("operator '") + ast::spelling(b->op) +
                                "' is not allowed in a size");
    }
    if (overflow || out > (int64_t(1) << 40) || out < -(int64_t(1) << 40))
      return fail(e.loc, "size arithmetic overflows");
    return out;
  }
  return fail(e.loc, "a size must be computed from numbers and dims with + - * /");
}

/// Real arithmetic on numbers, dims and consts: const values, initializer
/// and optimizer arguments, exponents. `report` as for evalDim.
double SemaImpl::evalConst(int scope, const ast::Expr &e, bool report) {
  auto fail = [&](SourceLoc loc, const std::string &msg) -> double {
    if (report)
      fatalIn(scope, loc, msg);
    throw NotConstant();
  };
  if (auto *n = e.as<ast::NumberExpr>())
    return n->value;
  if (auto *nm = e.as<ast::NameExpr>()) {
    double c;
    if (lookupConst(scope, nm->name, e.loc, c))
      return c;
    bool found;
    int64_t v = lookupDim(scope, nm->name, e.loc, found);
    if (found)
      return static_cast<double>(v);
    return fail(e.loc, "'" + nm->name + "' is not a number, dim or const");
  }
  if (auto *u = e.as<ast::UnaryExpr>())
    return -evalConst(scope, *u->operand, report);
  if (auto *b = e.as<ast::BinaryExpr>()) {
    double l = evalConst(scope, *b->lhs, report), r = evalConst(scope, *b->rhs, report);
    switch (b->op) {
    case ast::BinaryOp::Add:
      return l + r;
    case ast::BinaryOp::Sub:
      return l - r;
    case ast::BinaryOp::Mul:
      return l * r;
    case ast::BinaryOp::Div:
      return l / r;
    case ast::BinaryOp::Pow:
      return std::pow(l, r);
    default:
      break;
    }
  }
  return fail(e.loc, "expected a constant expression (numbers, dims and consts)");
}

} // namespace gradc::sema
