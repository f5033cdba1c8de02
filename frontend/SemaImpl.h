//===- frontend/SemaImpl.h - Sema's internal state, shared by its parts ----===//
//
// Sema is split by concern: SemaScope.cpp (statements, scopes, def calls),
// SemaExpr.cpp (AST expressions to RExpr), RangeSolver.cpp (index ranges and
// tensor shapes), Summation.cpp (implicit summation and typing) and
// Sema.cpp (the driver). This header is their common ground; nothing
// outside frontend/ includes it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/AST.h"
#include "frontend/Model.h"
#include "frontend/Sema.h"
#include "support/Diagnostics.h"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace gradc::sema {

/// The names visible in a model body or in one inlined def call.
struct Scope {
  std::string prefix;                    ///< "" for the model, "z2." in a call
  std::map<std::string, int> tensors;    ///< local name -> tensor id
  std::map<std::string, int64_t> dims;
  std::map<std::string, double> consts;
  std::vector<int64_t> ellipsis;         ///< sizes bound to `...`, if any
  bool hasEllipsis = false;
  const ast::FuncDef *def = nullptr;     ///< null for the model
  std::vector<std::pair<SourceLoc, std::string>> callStack; ///< for notes
  // Statements not yet evaluated, for use-before-definition of dims/consts.
  std::map<std::string, const ast::DimDef *> pendingDims;
  std::map<std::string, const ast::ConstStmt *> pendingConsts;
  std::set<std::string> evaluating;      ///< cycle detection for dims/consts
  int callCounter = 0;                   ///< numbering of calls per statement
};

/// A non-elementwise def call waiting for its arguments' shapes.
struct PendingCall {
  const ast::FuncDef *def = nullptr;
  const ast::CallExpr *call = nullptr;
  int scope = -1;                 ///< the caller's scope
  std::string path;               ///< prefix of the call's own names ("z2.")
  std::vector<int> argTensors;    ///< per def param: tensor id, or -1
  std::vector<int64_t> argDims;   ///< per def param: dim value (dim params)
  std::vector<int> results;       ///< result tensors to define
  std::vector<const ast::FuncDef *> defStack; ///< enclosing calls, for recursion
  bool done = false;
};

/// "[32,50,128]"
std::string shapeStr(const std::vector<int64_t> &shape);

/// Thrown by the quiet evaluators when an expression is not a constant.
struct NotConstant {};

/// What resolveExpr needs to know about where it is.
struct ExprCtx {
  int scope = -1;
  Equation *eq = nullptr;
  std::string stmtBase;       ///< names def calls' parameters (z2.W)
  /// Binder frames, innermost last: name ("..." for the ellipsis) -> vars.
  struct Frame {
    std::map<std::string, std::vector<int>> vars;
    int macroDepth = 0;
  };
  std::vector<Frame> frames;
  /// Elementwise def calls being expanded: param name -> argument.
  struct Macro {
    const ast::FuncDef *def;
    std::map<std::string, const ast::Expr *> args;
  };
  std::vector<Macro> macros;
  std::set<std::string> subscriptNames; ///< names used inside subscripts
  bool hasWhole = false;
  int64_t nodes = 0; ///< RExpr nodes made: bounds the growth of nested def expansion
};

/// An equation whose whole-tensor references wait for known shapes.
struct PendingWhole {
  int eq = -1;
  bool done = false;
};

class SemaImpl {
public:
  SemaImpl(const std::vector<const ast::Module *> &modules, SourceManager &sm,
           DiagnosticEngine &diags, const SemaOptions &opts);

  std::unique_ptr<Model> run(const ast::ModelDef &m);

  // --- SemaScope.cpp ---
  int newScope(Scope s);
  void declareBody(int scope, const std::vector<ast::StmtPtr> &body, bool isModel,
                   const std::vector<int> *returnTargets);
  int64_t evalDim(int scope, const ast::Expr &e, bool report);
  double evalConst(int scope, const ast::Expr &e, bool report);
  int64_t evalDimExpr(int scope, const ast::Expr &e) { return evalDim(scope, e, true); }
  double evalConstExpr(int scope, const ast::Expr &e) { return evalConst(scope, e, true); }
  /// Like the above, but throw NotConstant instead of reporting.
  int64_t evalDimExprQuiet(int scope, const ast::Expr &e) { return evalDim(scope, e, false); }
  double evalConstExprQuiet(int scope, const ast::Expr &e) { return evalConst(scope, e, false); }
  int64_t lookupDim(int scope, const std::string &name, SourceLoc loc, bool &found);
  bool lookupConst(int scope, const std::string &name, SourceLoc loc, double &out);
  int lookupTensor(int scope, const std::string &name) const;
  int newTensor(const std::string &name, SourceLoc loc, Role role);
  const ast::FuncDef *findDef(const std::string &name) const;
  bool isConstantSubscript(int scope, const ast::Expr &e);
  /// Checks what can be checked of every def without a call: duplicate
  /// names, and the names an elementwise def's body uses.
  void checkDefs();
  std::vector<int> definitionOrder();
  bool defDeclaresState(const ast::FuncDef *def);
  void instantiate(PendingCall &pc);
  [[noreturn]] void fatalIn(int scope, SourceLoc loc, const std::string &msg);
  void errorIn(const std::vector<std::pair<SourceLoc, std::string>> &stack, SourceLoc loc,
               const std::string &msg);
  void warnIn(const std::vector<std::pair<SourceLoc, std::string>> &stack, SourceLoc loc,
              const std::string &msg);

  // --- SemaExpr.cpp ---
  /// Resolves one equation (or update, or metric) of `scope`.
  int resolveEquation(int scope, const std::vector<const ast::LhsTarget *> &lhs, const ast::Expr &rhs,
                      const std::vector<ast::ForClause> &fors, SourceLoc loc, bool isUpdate,
                      const std::vector<int> &targets);
  RExprPtr resolveExpr(ExprCtx &cx, const ast::Expr &e, int depth);
  RExprPtr resolveName(ExprCtx &cx, const ast::NameExpr &n, int depth);
  RExprPtr resolveCall(ExprCtx &cx, const ast::CallExpr &c, int depth);
  RExprPtr resolveBinder(ExprCtx &cx, const ast::BinderExpr &b, int depth);
  RExprPtr resolveRead(ExprCtx &cx, const ast::SubscriptExpr &s, int depth);
  void resolveSubscript(ExprCtx &cx, RExpr &read, const ast::Expr &e, Subscript &out,
                        int depth);
  bool affineOf(ExprCtx &cx, const ast::Expr &e, Subscript &out, int64_t scale);
  int varFor(ExprCtx &cx, const std::string &name, SourceLoc loc, bool create);
  std::vector<int> ellipsisVars(ExprCtx &cx, SourceLoc loc);
  int newVar(Equation &eq, const std::string &name, SourceLoc loc);
  int queueCall(ExprCtx &cx, const ast::CallExpr &c, const ast::FuncDef *def,
                const std::vector<int> &targets);
  std::string uniqueTensorName(const std::string &base);
  /// Materializes a whole-tensor argument expression as a temporary tensor.
  int materializeArg(ExprCtx &cx, const ast::Expr &e, const std::string &name);

  // --- RangeSolver.cpp ---
  int newNode(int64_t size, SourceLoc loc, const std::string &what);
  int find(int n);
  void unify(int a, int b, SourceLoc loc, const std::string &what, const Equation *eq);
  void fixSize(int node, int64_t size, SourceLoc loc, const std::string &what,
               const Equation *eq);
  void addEquationToSolver(Equation &eq);
  bool propagateRanges();
  bool tensorShapeKnown(int t);
  std::vector<int64_t> tensorShape(int t);
  void finishShapes();
  void expandWhole(Equation &eq);

  // --- Summation.cpp ---
  void insertImplicitSums(Equation &eq);
  /// Types one equation; returns true when its tensor's int-ness changed.
  bool typeEquation(Equation &eq, bool report);
  void analyzeRecurrences();
  void inferFans();
  void checkMemory();

  // State.
  std::vector<const ast::Module *> modules_;
  SourceManager &sm_;
  DiagnosticEngine &diags_;
  SemaOptions opts_;
  std::unique_ptr<Model> model_;
  std::vector<Scope> scopes_;
  std::vector<PendingCall> calls_;
  std::vector<PendingWhole> wholes_;
  /// Per equation: the scope it was written in (for notes and name lookup).
  std::vector<int> eqScope_;
  /// Per equation: whether its left side had no subscripts.
  std::vector<bool> eqWhole_;
  /// Per equation: the def calls it sits in, for notes on its errors.
  std::vector<std::vector<std::pair<SourceLoc, std::string>>> eqCallStack_;
  /// Range-solver classes.
  struct Node {
    int parent;
    int64_t size;      ///< -1 unknown
    SourceLoc loc;     ///< where the size came from
    std::string what;  ///< description of that place
  };
  std::vector<Node> nodes_;
  std::vector<bool> eqInSolver_;
  const ast::ModelDef *astModel_ = nullptr;
  /// Per scope: the defs of the calls it is nested in (recursion check).
  std::vector<std::vector<const ast::FuncDef *>> callDefs_;
  std::set<std::string> usedPaths_;
  /// Set while resolving a `return` without `-> [axes]`: free indices are an error.
  bool returnNeedsAxes_ = false;
  /// While an argument expression is resolved as an equation of its own:
  /// the statement it belongs to, which names its calls.
  std::string stmtBaseOverride_;
  std::set<std::string> usedOverrides_;
};

} // namespace gradc::sema
