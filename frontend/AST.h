//===- frontend/AST.h - Syntax tree of the model language -----------------===//
//
// The parser's output: one Module per source file. Every node carries the
// SourceLoc of its first token. Nodes know nothing about shapes or meaning;
// frontend/Sema gives them that. Kinds are enums with LLVM-style classof so
// that `dyn_cast`-like helpers (`as<T>()`) stay cheap and explicit.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "support/SourceManager.h"

#include <memory>
#include <string>
#include <vector>

namespace gradc::ast {

//===-- Expressions --------------------------------------------------------===//

enum class ExprKind {
  Number,    ///< 3, 0.5, 1e-5
  Name,      ///< x, t, N, tau, training (meaning decided by Sema)
  Subscript, ///< A[i, t-1, tok[b,t]]  (also  x[..., i])
  Ellipsis,  ///< `...` as a subscript, a binder variable or a count() argument
  Call,      ///< f(a, b, key = v)  — functions, initializers, def calls
  Binder,    ///< sum(v, w: E), max(dx in 0..3: E), softmax(v: E)
  Unary,     ///< -E
  Binary,    ///< E op E
};

struct Expr {
  ExprKind kind;
  SourceLoc loc;
  explicit Expr(ExprKind k, SourceLoc l) : kind(k), loc(l) {}
  virtual ~Expr() = default;

  template <class T> T *as() { return T::classof(this) ? static_cast<T *>(this) : nullptr; }
  template <class T> const T *as() const {
    return T::classof(this) ? static_cast<const T *>(this) : nullptr;
  }
};
using ExprPtr = std::unique_ptr<Expr>;

struct NumberExpr : Expr {
  double value = 0;
  bool isInteger = false; ///< written without '.' or exponent
  std::string text;       ///< as written, for printing
  NumberExpr(SourceLoc l) : Expr(ExprKind::Number, l) {}
  static bool classof(const Expr *e) { return e->kind == ExprKind::Number; }
};

struct NameExpr : Expr {
  std::string name;
  NameExpr(SourceLoc l, std::string n) : Expr(ExprKind::Name, l), name(std::move(n)) {}
  static bool classof(const Expr *e) { return e->kind == ExprKind::Name; }
};

struct EllipsisExpr : Expr {
  EllipsisExpr(SourceLoc l) : Expr(ExprKind::Ellipsis, l) {}
  static bool classof(const Expr *e) { return e->kind == ExprKind::Ellipsis; }
};

/// `name[s0, s1, ...]`. Each subscript is an expression (affine in index
/// variables and dims, an indirect int-tensor read, or `...`).
struct SubscriptExpr : Expr {
  std::string name;
  std::vector<ExprPtr> subscripts;
  SubscriptExpr(SourceLoc l, std::string n) : Expr(ExprKind::Subscript, l), name(std::move(n)) {}
  static bool classof(const Expr *e) { return e->kind == ExprKind::Subscript; }
};

/// `key = value` inside a call's argument list: he(fan_in = K), adam(lr = 1e-3).
struct NamedArg {
  std::string name;
  SourceLoc loc;
  ExprPtr value;
};

struct CallExpr : Expr {
  std::string callee;
  SourceLoc calleeLoc;
  std::vector<ExprPtr> args;       ///< positional, in order
  std::vector<NamedArg> namedArgs; ///< after the positional ones
  CallExpr(SourceLoc l, std::string c) : Expr(ExprKind::Call, l), callee(std::move(c)), calleeLoc(l) {}
  static bool classof(const Expr *e) { return e->kind == ExprKind::Call; }
};

/// A variable bound by a binder: `v`, `dx in 0..3`, `x in lo..hi`, or `...`.
struct BoundVar {
  std::string name; ///< empty for `...`
  SourceLoc loc;
  bool ellipsis = false;
  ExprPtr lo, hi; ///< both set when a range is given (`v in lo..hi`)
};

/// `op(vars: body)` where op is sum, mean, max, min, logsumexp, argmax,
/// softmax or log_softmax (the parser accepts any identifier before the
/// parenthesis when a `:` follows the variable list; Sema checks the name).
struct BinderExpr : Expr {
  std::string op;
  SourceLoc opLoc;
  std::vector<BoundVar> vars;
  ExprPtr body;
  BinderExpr(SourceLoc l, std::string o) : Expr(ExprKind::Binder, l), op(std::move(o)), opLoc(l) {}
  static bool classof(const Expr *e) { return e->kind == ExprKind::Binder; }
};

enum class UnaryOp { Neg };

struct UnaryExpr : Expr {
  UnaryOp op = UnaryOp::Neg;
  ExprPtr operand;
  UnaryExpr(SourceLoc l) : Expr(ExprKind::Unary, l) {}
  static bool classof(const Expr *e) { return e->kind == ExprKind::Unary; }
};

enum class BinaryOp { Add, Sub, Mul, Div, Pow, Lt, Le, Gt, Ge, Eq, Ne };
const char *spelling(BinaryOp op);

struct BinaryExpr : Expr {
  BinaryOp op;
  SourceLoc opLoc; ///< location of the operator token
  ExprPtr lhs, rhs;
  BinaryExpr(SourceLoc l, BinaryOp o) : Expr(ExprKind::Binary, l), op(o) {}
  static bool classof(const Expr *e) { return e->kind == ExprKind::Binary; }
};

//===-- Statements ---------------------------------------------------------===//

enum class StmtKind {
  Dim,       ///< dim N = 8, M = N/2
  Const,     ///< const tau = 0.1
  Tensor,    ///< input / param / noise / state declarations
  Equation,  ///< A[i,j] = E [for ...] ; A = E ; h, c = lstm(x, H)
  Update,    ///< update m[j] = E
  Output,    ///< output a, b
  Minimize,  ///< minimize loss
  Metric,    ///< metric acc = E
  Optimizer, ///< optimizer adam(lr = 1e-3)
  ClipNorm,  ///< clip_norm 5.0
  Return,    ///< return E [-> [axes]], ...   (def bodies only)
};

struct Stmt {
  StmtKind kind;
  SourceLoc loc;
  explicit Stmt(StmtKind k, SourceLoc l) : kind(k), loc(l) {}
  virtual ~Stmt() = default;
  template <class T> T *as() { return T::classof(this) ? static_cast<T *>(this) : nullptr; }
  template <class T> const T *as() const {
    return T::classof(this) ? static_cast<const T *>(this) : nullptr;
  }
};
using StmtPtr = std::unique_ptr<Stmt>;

struct DimDef {
  std::string name;
  SourceLoc loc;
  ExprPtr value;
};

struct DimStmt : Stmt {
  std::vector<DimDef> dims;
  DimStmt(SourceLoc l) : Stmt(StmtKind::Dim, l) {}
  static bool classof(const Stmt *s) { return s->kind == StmtKind::Dim; }
};

struct ConstStmt : Stmt {
  std::string name;
  SourceLoc nameLoc;
  ExprPtr value;
  ConstStmt(SourceLoc l) : Stmt(StmtKind::Const, l) {}
  static bool classof(const Stmt *s) { return s->kind == StmtKind::Const; }
};

enum class TensorRole { Input, Param, Noise, State };

/// input x[N, M] [: int] ; param W[J, K] = he() ; noise e[B, Z] = normal(1) ;
/// state m[J] = zeros().  A missing `[...]` declares a scalar. In a def body
/// the shape may use `...` (the leading axes of a `x[..., I]` parameter).
struct TensorStmt : Stmt {
  TensorRole role;
  std::string name;
  SourceLoc nameLoc;
  std::vector<ExprPtr> shape; ///< dim expressions (or EllipsisExpr)
  bool hasShape = false;      ///< `[...]` was written (even if empty: `[]`)
  bool isInt = false;         ///< `: int`
  ExprPtr init;               ///< a CallExpr, or null when absent
  TensorStmt(SourceLoc l, TensorRole r) : Stmt(StmtKind::Tensor, l), role(r) {}
  static bool classof(const Stmt *s) { return s->kind == StmtKind::Tensor; }
};

/// One left-hand side target: `h[b, t, j]`, `h[b, -1, j]` or a bare `a`.
struct LhsTarget {
  std::string name;
  SourceLoc loc;
  bool hasSubscripts = false;
  std::vector<ExprPtr> subscripts;
};

/// `v in lo..hi` of a `for` clause.
struct ForClause {
  std::string var;
  SourceLoc loc;
  ExprPtr lo, hi;
};

struct EquationStmt : Stmt {
  std::vector<LhsTarget> lhs; ///< several only for destructuring calls
  ExprPtr rhs;
  std::vector<ForClause> fors;
  EquationStmt(SourceLoc l) : Stmt(StmtKind::Equation, l) {}
  static bool classof(const Stmt *s) { return s->kind == StmtKind::Equation; }
};

struct UpdateStmt : Stmt {
  LhsTarget target;
  ExprPtr rhs;
  std::vector<ForClause> fors;
  UpdateStmt(SourceLoc l) : Stmt(StmtKind::Update, l) {}
  static bool classof(const Stmt *s) { return s->kind == StmtKind::Update; }
};

struct NameRef {
  std::string name;
  SourceLoc loc;
};

struct OutputStmt : Stmt {
  std::vector<NameRef> names;
  OutputStmt(SourceLoc l) : Stmt(StmtKind::Output, l) {}
  static bool classof(const Stmt *s) { return s->kind == StmtKind::Output; }
};

struct MinimizeStmt : Stmt {
  NameRef target;
  MinimizeStmt(SourceLoc l) : Stmt(StmtKind::Minimize, l) {}
  static bool classof(const Stmt *s) { return s->kind == StmtKind::Minimize; }
};

struct MetricStmt : Stmt {
  std::string name;
  SourceLoc nameLoc;
  ExprPtr rhs;
  MetricStmt(SourceLoc l) : Stmt(StmtKind::Metric, l) {}
  static bool classof(const Stmt *s) { return s->kind == StmtKind::Metric; }
};

struct OptimizerStmt : Stmt {
  std::unique_ptr<CallExpr> call;
  OptimizerStmt(SourceLoc l) : Stmt(StmtKind::Optimizer, l) {}
  static bool classof(const Stmt *s) { return s->kind == StmtKind::Optimizer; }
};

struct ClipNormStmt : Stmt {
  ExprPtr value;
  ClipNormStmt(SourceLoc l) : Stmt(StmtKind::ClipNorm, l) {}
  static bool classof(const Stmt *s) { return s->kind == StmtKind::ClipNorm; }
};

/// One returned value, with the axes of its result when it has free indices:
/// `W[o, i]*x[..., i] + c[o] -> [..., o]`.
struct ReturnItem {
  ExprPtr value;
  bool hasAxes = false;
  std::vector<ExprPtr> axes; ///< NameExpr or EllipsisExpr
};

struct ReturnStmt : Stmt {
  std::vector<ReturnItem> items;
  ReturnStmt(SourceLoc l) : Stmt(StmtKind::Return, l) {}
  static bool classof(const Stmt *s) { return s->kind == StmtKind::Return; }
};

//===-- Top level ----------------------------------------------------------===//

enum class ParamKind {
  Tensor, ///< x[N, I] or x[..., I]: sized; binds its size names
  Bare,   ///< x: a tensor of any shape
  Dim,    ///< dim Out
  Int,    ///< tok: int (an int tensor of any shape), or tok[B, T]: int
};

struct DefParam {
  ParamKind kind;
  std::string name;
  SourceLoc loc;
  /// For sized tensors: each axis is a size name, or "..." (leading only).
  std::vector<NameRef> axes;
  bool isInt = false;
};

struct FuncDef {
  std::string name;
  SourceLoc loc;
  std::vector<DefParam> params;
  /// Either a block of statements, or (for `def f(a, b) = E`) one expression.
  std::vector<StmtPtr> body;
  ExprPtr exprBody;
};

struct ModelDef {
  std::string name;
  SourceLoc loc;
  std::vector<StmtPtr> body;
};

struct Import {
  std::string path; ///< "std" or a file path relative to the importing file
  SourceLoc loc;
};

/// One parsed source file.
struct Module {
  uint32_t file = 0;
  std::vector<Import> imports;
  std::vector<std::unique_ptr<FuncDef>> defs;
  std::vector<std::unique_ptr<ModelDef>> models;
};

} // namespace gradc::ast
