//===- frontend/ASTPrinter.cpp - Text forms of the syntax tree -------------===//
#include "frontend/ASTPrinter.h"

#include "support/Assert.h"

#include <charconv>

namespace gradc {

using namespace ast;

const char *ast::spelling(BinaryOp op) {
  switch (op) {
  case BinaryOp::Add:
    return "+";
  case BinaryOp::Sub:
    return "-";
  case BinaryOp::Mul:
    return "*";
  case BinaryOp::Div:
    return "/";
  case BinaryOp::Pow:
    return "^";
  case BinaryOp::Lt:
    return "<";
  case BinaryOp::Le:
    return "<=";
  case BinaryOp::Gt:
    return ">";
  case BinaryOp::Ge:
    return ">=";
  case BinaryOp::Eq:
    return "==";
  case BinaryOp::Ne:
    return "!=";
  }
  GRADC_UNREACHABLE("unknown binary operator");
}

/// A number as written, or (for nodes built by a pass) its shortest form.
static std::string numberText(const NumberExpr &n) {
  if (!n.text.empty())
    return n.text;
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n.value);
  return ec == std::errc() ? std::string(buf, end) : "nan";
}

template <class T, class F>
static std::string join(const std::vector<T> &items, const char *sep, F &&render) {
  std::string s;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i)
      s += sep;
    s += render(items[i]);
  }
  return s;
}

//===-- Source syntax ------------------------------------------------------===//

namespace {
/// Binding strength, loosest first; the parser's precedence levels.
enum Prec { PrecCompare = 1, PrecAdd, PrecMul, PrecUnary, PrecPow, PrecAtom };
} // namespace

static int precedence(const Expr &e) {
  if (const auto *b = e.as<BinaryExpr>()) {
    switch (b->op) {
    case BinaryOp::Add:
    case BinaryOp::Sub:
      return PrecAdd;
    case BinaryOp::Mul:
    case BinaryOp::Div:
      return PrecMul;
    case BinaryOp::Pow:
      return PrecPow;
    default:
      return PrecCompare;
    }
  }
  if (e.as<UnaryExpr>())
    return PrecUnary;
  if (const auto *n = e.as<NumberExpr>(); n && numberText(*n)[0] == '-')
    return PrecUnary; // a negative constant made by a pass prints like -x
  return PrecAtom;
}

static std::string parenthesize(const Expr &e, bool paren) {
  std::string s = printExpr(e);
  return paren ? "(" + s + ")" : s;
}

static std::string printBoundVar(const BoundVar &v, std::string (*print)(const Expr &)) {
  if (v.ellipsis)
    return "...";
  if (v.lo && v.hi)
    return v.name + " in " + print(*v.lo) + ".." + print(*v.hi);
  return v.name;
}

std::string printExpr(const Expr &e) {
  auto print = [](const ExprPtr &p) { return printExpr(*p); };
  switch (e.kind) {
  case ExprKind::Number:
    return numberText(*e.as<NumberExpr>());
  case ExprKind::Name:
    return e.as<NameExpr>()->name;
  case ExprKind::Ellipsis:
    return "...";
  case ExprKind::Subscript: {
    const auto *s = e.as<SubscriptExpr>();
    return s->name + "[" + join(s->subscripts, ", ", print) + "]";
  }
  case ExprKind::Call: {
    const auto *c = e.as<CallExpr>();
    std::string args = join(c->args, ", ", print);
    for (const NamedArg &a : c->namedArgs)
      args += (args.empty() ? "" : ", ") + a.name + " = " + printExpr(*a.value);
    return c->callee + "(" + args + ")";
  }
  case ExprKind::Binder: {
    const auto *b = e.as<BinderExpr>();
    auto var = [](const BoundVar &v) { return printBoundVar(v, printExpr); };
    return b->op + "(" + join(b->vars, ", ", var) + ": " + printExpr(*b->body) + ")";
  }
  case ExprKind::Unary: {
    const auto *u = e.as<UnaryExpr>();
    std::string operand = parenthesize(*u->operand, precedence(*u->operand) < PrecUnary);
    if (operand[0] == '-')
      operand = "(" + operand + ")";
    return "-" + operand;
  }
  case ExprKind::Binary: {
    const auto *b = e.as<BinaryExpr>();
    int p = precedence(e), pl = precedence(*b->lhs), pr = precedence(*b->rhs);
    bool parenLeft, parenRight;
    if (b->op == BinaryOp::Pow) { // right-associative; the exponent may be negated
      parenLeft = pl < PrecAtom;
      parenRight = pr < PrecUnary;
    } else { // left-associative (comparisons do not chain at all)
      parenLeft = pl < p || (p == PrecCompare && pl == PrecCompare);
      parenRight = pr <= p;
    }
    bool tight = p == PrecMul || p == PrecPow;
    std::string op = tight ? spelling(b->op) : std::string(" ") + spelling(b->op) + " ";
    return parenthesize(*b->lhs, parenLeft) + op + parenthesize(*b->rhs, parenRight);
  }
  }
  GRADC_UNREACHABLE("unknown expression kind");
}

//===-- S-expressions ------------------------------------------------------===//

std::string printSExpr(const Expr &e) {
  auto print = [](const ExprPtr &p) { return printSExpr(*p); };
  switch (e.kind) {
  case ExprKind::Number:
  case ExprKind::Name:
  case ExprKind::Ellipsis:
    return printExpr(e);
  case ExprKind::Subscript: {
    const auto *s = e.as<SubscriptExpr>();
    return s->name + "[" + join(s->subscripts, " ", print) + "]";
  }
  case ExprKind::Call: {
    const auto *c = e.as<CallExpr>();
    std::string s = "(call " + c->callee;
    for (const ExprPtr &a : c->args)
      s += " " + printSExpr(*a);
    for (const NamedArg &a : c->namedArgs)
      s += " " + a.name + "=" + printSExpr(*a.value);
    return s + ")";
  }
  case ExprKind::Binder: {
    const auto *b = e.as<BinderExpr>();
    auto var = [](const BoundVar &v) {
      if (v.ellipsis)
        return std::string("...");
      if (v.lo && v.hi)
        return "(" + v.name + " " + printSExpr(*v.lo) + " " + printSExpr(*v.hi) + ")";
      return v.name;
    };
    return "(" + b->op + " [" + join(b->vars, " ", var) + "] " + printSExpr(*b->body) + ")";
  }
  case ExprKind::Unary:
    return "(neg " + printSExpr(*e.as<UnaryExpr>()->operand) + ")";
  case ExprKind::Binary: {
    const auto *b = e.as<BinaryExpr>();
    return std::string("(") + spelling(b->op) + " " + printSExpr(*b->lhs) + " " +
           printSExpr(*b->rhs) + ")";
  }
  }
  GRADC_UNREACHABLE("unknown expression kind");
}

//===-- Statements ---------------------------------------------------------===//

static std::string printTarget(const LhsTarget &t) {
  if (!t.hasSubscripts)
    return t.name;
  return t.name + "[" + join(t.subscripts, " ", [](const ExprPtr &p) { return printSExpr(*p); }) +
         "]";
}

static std::string printFors(const std::vector<ForClause> &fors) {
  if (fors.empty())
    return "";
  return " (for " +
         join(fors, " ",
              [](const ForClause &f) {
                return "(" + f.var + " " + printSExpr(*f.lo) + " " + printSExpr(*f.hi) + ")";
              }) +
         ")";
}

static const char *roleName(TensorRole r) {
  switch (r) {
  case TensorRole::Input:
    return "input";
  case TensorRole::Param:
    return "param";
  case TensorRole::Noise:
    return "noise";
  case TensorRole::State:
    return "state";
  }
  GRADC_UNREACHABLE("unknown tensor role");
}

std::string printStmt(const Stmt &stmt) {
  auto sexpr = [](const ExprPtr &p) { return printSExpr(*p); };
  switch (stmt.kind) {
  case StmtKind::Dim:
    return join(stmt.as<DimStmt>()->dims, "\n", [](const DimDef &d) {
      return "(dim " + d.name + " " + printSExpr(*d.value) + ")";
    });
  case StmtKind::Const: {
    const auto *c = stmt.as<ConstStmt>();
    return "(const " + c->name + " " + printSExpr(*c->value) + ")";
  }
  case StmtKind::Tensor: {
    const auto *t = stmt.as<TensorStmt>();
    std::string s = std::string("(") + roleName(t->role) + " " + t->name;
    if (t->hasShape)
      s += " [" + join(t->shape, " ", sexpr) + "]";
    if (t->isInt)
      s += " int";
    if (t->init)
      s += " " + printSExpr(*t->init);
    return s + ")";
  }
  case StmtKind::Equation: {
    const auto *eq = stmt.as<EquationStmt>();
    std::string lhs =
        eq->lhs.size() == 1 ? printTarget(eq->lhs[0]) : "(" + join(eq->lhs, " ", printTarget) + ")";
    return "(eq " + lhs + " " + printSExpr(*eq->rhs) + printFors(eq->fors) + ")";
  }
  case StmtKind::Update: {
    const auto *u = stmt.as<UpdateStmt>();
    return "(update " + printTarget(u->target) + " " + printSExpr(*u->rhs) + printFors(u->fors) +
           ")";
  }
  case StmtKind::Output:
    return "(output " +
           join(stmt.as<OutputStmt>()->names, " ", [](const NameRef &n) { return n.name; }) + ")";
  case StmtKind::Minimize:
    return "(minimize " + stmt.as<MinimizeStmt>()->target.name + ")";
  case StmtKind::Metric: {
    const auto *m = stmt.as<MetricStmt>();
    return "(metric " + m->name + " " + printSExpr(*m->rhs) + ")";
  }
  case StmtKind::Optimizer:
    return "(optimizer " + printSExpr(*stmt.as<OptimizerStmt>()->call) + ")";
  case StmtKind::ClipNorm:
    return "(clip_norm " + printSExpr(*stmt.as<ClipNormStmt>()->value) + ")";
  case StmtKind::Return:
    return "(return " +
           join(stmt.as<ReturnStmt>()->items, " ",
                [&](const ReturnItem &item) {
                  if (!item.hasAxes)
                    return printSExpr(*item.value);
                  return "(-> " + printSExpr(*item.value) + " [" + join(item.axes, " ", sexpr) +
                         "])";
                }) +
           ")";
  }
  GRADC_UNREACHABLE("unknown statement kind");
}

//===-- Modules ------------------------------------------------------------===//

static std::string printDefParam(const DefParam &p) {
  if (p.kind == ParamKind::Dim)
    return "(dim " + p.name + ")";
  std::string s = "(" + p.name;
  if (!p.axes.empty())
    s += " [" + join(p.axes, " ", [](const NameRef &n) { return n.name; }) + "]";
  if (p.isInt)
    s += " int";
  return s + ")";
}

/// Appends `header`, then each statement indented by two spaces, closing the
/// header's parenthesis at the end of the last line.
static void printBlock(std::string &out, const std::string &header,
                       const std::vector<StmtPtr> &body) {
  out += header;
  for (const StmtPtr &stmt : body) {
    std::string text = printStmt(*stmt);
    size_t begin = 0;
    while (begin <= text.size()) {
      size_t end = text.find('\n', begin);
      if (end == std::string::npos)
        end = text.size();
      out += "\n  " + text.substr(begin, end - begin);
      begin = end + 1;
    }
  }
  out += ")\n";
}

std::string printAST(const Module &module) {
  std::string out;
  for (const Import &imp : module.imports)
    out += "(import \"" + imp.path + "\")\n";
  for (const auto &def : module.defs) {
    std::string header = "(def " + def->name;
    for (const DefParam &p : def->params)
      header += " " + printDefParam(p);
    if (def->exprBody) {
      out += header + "\n  (= " + printSExpr(*def->exprBody) + "))\n";
      continue;
    }
    printBlock(out, header, def->body);
  }
  for (const auto &model : module.models)
    printBlock(out, "(model " + model->name, model->body);
  return out;
}

} // namespace gradc
