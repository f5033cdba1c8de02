//===- notation/EqExpr.h - Equations in the model's notation, for display -===//
//
// `gradc compile --emit=grad-eqs` shows IR as equations a student can read
// next to a hand derivation: `grad.W[j,i] += grad.z[b,j]*x[b,i]`. This header
// holds the small expression tree those equations are built in (index
// expressions over display variables, reads, calls, binders), the lines that
// assign them, and the printer: minimal parentheses, implicit summation where
// the language's rule gives the same sum, and index variables named after
// the ones the user wrote (chosen by votes, see nameLine).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Op.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace gradc::notation {

struct DExpr;
using DExprPtr = std::shared_ptr<const DExpr>;

/// A subscript: constant + Σ coeff·var + Σ coeff·(an int tensor read). The
/// variables are display variables of one line (Line::vars).
struct DIndex {
  int64_t constant = 0;
  std::vector<std::pair<int, int64_t>> vars;
  std::vector<std::pair<DExprPtr, int64_t>> reads;

  static DIndex var(int v) { return DIndex{0, {{v, 1}}, {}}; }
  static DIndex of(int64_t c) { return DIndex{c, {}, {}}; }
  DIndex plus(const DIndex &o) const;
  DIndex scaled(int64_t k) const;
  /// True when this is `v + offset` for one variable v.
  bool isVar(int &v, int64_t &offset) const;
};

enum class DKind {
  Number, ///< value
  Read,   ///< name[subs], or name alone for a scalar
  Index,  ///< the value of an index expression (an iota)
  Neg,    ///< -kids[0]
  Pow,    ///< kids[0] ^ exponent
  Binary, ///< kids[0] op kids[1]: + - * / and comparisons
  Call,   ///< name(kids...)
  Binder, ///< name(bound: kids[0]): sum, max, logsumexp, softmax, ...
  At,     ///< kids[0] with its `bound` variables set to `subs` (a fallback)
};

struct DExpr {
  DKind kind = DKind::Number;
  double number = 0;               ///< Number; Pow: the exponent
  std::string name;                ///< Read: tensor; Call, Binder: function
  ir::OpKind op = ir::OpKind::Add; ///< Binary
  std::vector<DIndex> subs;        ///< Read: subscripts; Index: {index}; At: values
  std::vector<int> bound;          ///< Binder, At
  /// A sum binder printed without its binder: the language's implicit
  /// summation gives the same value (see markImplicitSums).
  bool implicit = false;
  std::vector<DExprPtr> kids;
};

DExprPtr number(double v);
DExprPtr read(std::string name, std::vector<DIndex> subs);
DExprPtr indexValue(DIndex i);
DExprPtr neg(DExprPtr x);
DExprPtr power(DExprPtr x, double exponent);
DExprPtr binary(ir::OpKind op, DExprPtr a, DExprPtr b);
DExprPtr call(std::string name, std::vector<DExprPtr> args);
DExprPtr binder(std::string name, std::vector<int> bound, DExprPtr body);
DExprPtr at(DExprPtr body, std::vector<int> bound, std::vector<DIndex> values);

/// A display variable of one line.
struct DVar {
  int64_t size = 0; ///< the range it runs over
  int level = -1;   ///< >= 0: the step variable of the loop at that depth
  std::string name; ///< chosen by nameLine (step variables: preset)
};

/// One displayed equation: target[at] = rhs, or += for a contribution.
struct Line {
  std::string target;
  std::vector<DIndex> at; ///< logical positions written (empty for a scalar)
  bool accumulate = false;
  DExprPtr rhs;
  std::vector<DVar> vars;
  std::string note; ///< printed as a trailing comment when not empty

  int newVar(int64_t size, int level = -1) {
    vars.push_back({size, level, ""});
    return static_cast<int>(vars.size()) - 1;
  }
};

/// A subscript list's shape for matching reads: per axis the constant of a
/// `var + c` subscript, or kNotVar.
constexpr int64_t kNotVar = INT64_MIN;
using Offsets = std::vector<int64_t>;

/// Suggests names for the variable at axis `axis` of tensor `tensor`, read
/// with subscripts shaped `offsets` (`h[b,t-1,i]`: {0, -1, 0}): each
/// suggestion with a weight (how strongly the equations vote for it).
using NameVotes = std::function<void(const std::string &tensor, int axis, const Offsets &offsets,
                                     std::vector<std::pair<std::string, int>> &out)>;

/// Prints sums without their binder wherever the language's implicit
/// summation reads the same: a sum reached from the right side's root
/// through + - * and unary minus only (not through a divisor, a function or a
/// power, where `(a[i] + b[i])^2` would sum outside the square).
DExprPtr markImplicitSums(const DExprPtr &rhs);

/// Gives every unnamed variable of `line` a name: the best-voted suggestion
/// from the tensors it subscripts that is still free in the line, else
/// `fallback(size)` when free, else the first free of i, j, k, ....
/// `taken` holds names the line must not use (tensor names).
void nameLine(Line &line, const NameVotes &votes,
              const std::function<std::string(int64_t)> &fallback,
              const std::function<bool(const std::string &)> &taken);

/// `target[at] = rhs` (or +=) with the line's variable names.
std::string printLine(const Line &line);
/// An expression alone, with the variables named by `names`.
std::string printExpr(const DExprPtr &e, const std::vector<std::string> &names);

/// Calls f(tensor, axis, offsets, var) for every subscript that is exactly
/// one variable plus a constant, in printing order (the target first).
using SubscriptFn = std::function<void(const std::string &, int, const Offsets &, int)>;
void forEachVarSubscript(const Line &line, const SubscriptFn &f);

/// The offsets of a subscript list (see Offsets).
Offsets offsetsOf(const std::vector<DIndex> &subs);

/// Numbers as a reader wants them: 0.5, 24, 1e-05, 0.0416667.
std::string formatNumber(double v);

} // namespace gradc::notation
