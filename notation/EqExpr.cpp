//===- notation/EqExpr.cpp - Printing and naming displayed equations ------===//
#include "notation/EqExpr.h"

#include "ir/Printer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

namespace gradc::notation {

using ir::OpKind;

DIndex DIndex::plus(const DIndex &o) const {
  DIndex r = *this;
  r.constant += o.constant;
  for (auto &[v, c] : o.vars) {
    auto it = std::find_if(r.vars.begin(), r.vars.end(), [&](auto &t) { return t.first == v; });
    if (it == r.vars.end())
      r.vars.push_back({v, c});
    else if ((it->second += c) == 0)
      r.vars.erase(it);
  }
  r.reads.insert(r.reads.end(), o.reads.begin(), o.reads.end());
  return r;
}

DIndex DIndex::scaled(int64_t k) const {
  DIndex r;
  if (k == 0)
    return r;
  r.constant = constant * k;
  for (auto &[v, c] : vars)
    r.vars.push_back({v, c * k});
  for (auto &[e, c] : reads)
    r.reads.push_back({e, c * k});
  return r;
}

bool DIndex::isVar(int &v, int64_t &offset) const {
  if (vars.size() != 1 || vars[0].second != 1 || !reads.empty())
    return false;
  v = vars[0].first;
  offset = constant;
  return true;
}

namespace {

DExprPtr make(DExpr e) { return std::make_shared<const DExpr>(std::move(e)); }

} // namespace

DExprPtr number(double v) {
  DExpr e;
  e.kind = DKind::Number;
  e.number = v;
  return make(std::move(e));
}

DExprPtr read(std::string name, std::vector<DIndex> subs) {
  DExpr e;
  e.kind = DKind::Read;
  e.name = std::move(name);
  e.subs = std::move(subs);
  return make(std::move(e));
}

DExprPtr indexValue(DIndex i) {
  DExpr e;
  e.kind = DKind::Index;
  e.subs = {std::move(i)};
  return make(std::move(e));
}

DExprPtr neg(DExprPtr x) {
  if (x->kind == DKind::Neg) // -(-a) is a
    return x->kids[0];
  DExpr e;
  e.kind = DKind::Neg;
  e.kids = {std::move(x)};
  return make(std::move(e));
}

DExprPtr power(DExprPtr x, double exponent) {
  DExpr e;
  e.kind = DKind::Pow;
  e.number = exponent;
  e.kids = {std::move(x)};
  return make(std::move(e));
}

DExprPtr binary(OpKind op, DExprPtr a, DExprPtr b) {
  DExpr e;
  e.kind = DKind::Binary;
  e.op = op;
  e.kids = {std::move(a), std::move(b)};
  return make(std::move(e));
}

DExprPtr call(std::string name, std::vector<DExprPtr> args) {
  DExpr e;
  e.kind = DKind::Call;
  e.name = std::move(name);
  e.kids = std::move(args);
  return make(std::move(e));
}

DExprPtr binder(std::string name, std::vector<int> bound, DExprPtr body) {
  DExpr e;
  e.kind = DKind::Binder;
  e.name = std::move(name);
  e.bound = std::move(bound);
  e.kids = {std::move(body)};
  return make(std::move(e));
}

DExprPtr at(DExprPtr body, std::vector<int> bound, std::vector<DIndex> values) {
  DExpr e;
  e.kind = DKind::At;
  e.bound = std::move(bound);
  e.subs = std::move(values);
  e.kids = {std::move(body)};
  return make(std::move(e));
}

std::string formatNumber(double v) {
  std::string s = ir::formatDouble(v);
  if (s.size() > 8) { // 0.041666666666666664 -> 0.0416667
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    s = buf;
  }
  // 1e-05 -> 1e-5, as one writes it in a model.
  size_t e = s.find('e');
  if (e != std::string::npos) {
    size_t digits = e + 1 + (e + 1 < s.size() && (s[e + 1] == '-' || s[e + 1] == '+'));
    while (digits + 1 < s.size() && s[digits] == '0')
      s.erase(digits, 1);
    if (e + 1 < s.size() && s[e + 1] == '+')
      s.erase(e + 1, 1);
  }
  return s;
}

//===----------------------------------------------------------------------===//
// Implicit summation
//===----------------------------------------------------------------------===//

static bool mentions(const DExprPtr &e, int v);

static bool mentions(const DIndex &i, int v) {
  for (auto &[w, c] : i.vars)
    if (w == v)
      return true;
  for (auto &[r, c] : i.reads)
    if (mentions(r, v))
      return true;
  return false;
}

static bool mentions(const DExprPtr &e, int v) {
  for (auto &s : e->subs)
    if (mentions(s, v))
      return true;
  for (auto &k : e->kids)
    if (mentions(k, v))
      return true;
  return false;
}

/// True when every summand of e (through + - and unary minus) mentions v:
/// without its binder, Σ_v (a[v] + c) would read as Σ_v a[v] + c.
static bool everySummandMentions(const DExprPtr &e, int v) {
  if (e->kind == DKind::Neg)
    return everySummandMentions(e->kids[0], v);
  if (e->kind == DKind::Binary && (e->op == OpKind::Add || e->op == OpKind::Sub))
    return everySummandMentions(e->kids[0], v) && everySummandMentions(e->kids[1], v);
  return mentions(e, v);
}

static DExprPtr implicitWalk(const DExprPtr &e) {
  switch (e->kind) {
  case DKind::Binder: {
    // Without its binder, a sum over a variable some summand does not
    // mention would lose that summand's factor of the variable's range.
    auto mentioned = [&](int v) { return everySummandMentions(e->kids[0], v); };
    if (e->name != "sum" || !std::all_of(e->bound.begin(), e->bound.end(), mentioned))
      return e;
    DExpr c = *e;
    c.implicit = true;
    c.kids[0] = implicitWalk(e->kids[0]);
    return make(std::move(c));
  }
  case DKind::Neg: {
    DExpr c = *e;
    c.kids[0] = implicitWalk(e->kids[0]);
    return make(std::move(c));
  }
  case DKind::Binary: {
    if (e->op != OpKind::Add && e->op != OpKind::Sub && e->op != OpKind::Mul &&
        e->op != OpKind::Div)
      return e;
    DExpr c = *e;
    c.kids[0] = implicitWalk(e->kids[0]);
    if (e->op != OpKind::Div) // a divisor is a product of its own
      c.kids[1] = implicitWalk(e->kids[1]);
    return make(std::move(c));
  }
  default:
    return e;
  }
}

DExprPtr markImplicitSums(const DExprPtr &rhs) { return implicitWalk(rhs); }

//===----------------------------------------------------------------------===//
// Printing
//===----------------------------------------------------------------------===//

namespace {

// Precedence, loosest first, as in the language: comparisons, + -, * /,
// unary minus, ^, atoms.
enum Prec { PCompare = 0, PAdd = 1, PMul = 2, PNeg = 3, PPow = 4, PAtom = 5 };

struct Printed {
  std::string text;
  int prec;
};

class Printer {
public:
  explicit Printer(const std::vector<std::string> &names) : names_(names) {}

  std::string name(int v) const {
    return v >= 0 && v < static_cast<int>(names_.size()) && !names_[v].empty()
               ? names_[v]
               : "?" + std::to_string(v);
  }

  std::string index(const DIndex &i) const {
    std::string s;
    auto term = [&](int64_t c, const std::string &t) {
      if (s.empty())
        s += c < 0 ? "-" : "";
      else
        s += c < 0 ? "-" : "+";
      int64_t a = c < 0 ? -c : c;
      s += a == 1 ? t : std::to_string(a) + "*" + t;
    };
    for (auto &[v, c] : i.vars)
      term(c, name(v));
    for (auto &[e, c] : i.reads) {
      Printed p = expr(e);
      term(c, p.prec < PAtom && c != 1 ? "(" + p.text + ")" : p.text);
    }
    if (s.empty())
      return std::to_string(i.constant);
    if (i.constant != 0)
      s += (i.constant < 0 ? "-" : "+") + std::to_string(std::llabs(i.constant));
    return s;
  }

  std::string subscripts(const std::vector<DIndex> &subs) const {
    if (subs.empty())
      return "";
    std::string s = "[";
    for (size_t k = 0; k < subs.size(); ++k)
      s += (k ? "," : "") + index(subs[k]);
    return s + "]";
  }

  Printed expr(const DExprPtr &e) const {
    switch (e->kind) {
    case DKind::Number:
      return {formatNumber(e->number), e->number < 0 ? PNeg : PAtom};
    case DKind::Read:
      return {e->name + subscripts(e->subs), PAtom};
    case DKind::Index: {
      const DIndex &i = e->subs[0];
      size_t terms = i.vars.size() + i.reads.size();
      bool unit = terms == 1 && i.constant == 0 &&
                  (i.vars.empty() ? i.reads[0].second : i.vars[0].second) == 1;
      return {index(i), unit || (terms == 0 && i.constant >= 0) ? PAtom : PAdd};
    }
    case DKind::Neg: {
      Printed x = expr(e->kids[0]);
      // -a*b reads as (-a)*b, which is the same number.
      if (x.text[0] != '-' && (x.prec >= PNeg || x.prec == PMul))
        return {"-" + x.text, x.prec >= PNeg ? PNeg : PMul};
      return {"-(" + x.text + ")", PNeg};
    }
    case DKind::Pow: {
      Printed x = expr(e->kids[0]);
      std::string base = x.prec >= PAtom ? x.text : "(" + x.text + ")";
      std::string p = formatNumber(e->number);
      return {base + "^" + (e->number < 0 ? "(" + p + ")" : p), PPow};
    }
    case DKind::Binary:
      return binaryExpr(*e);
    case DKind::Call: {
      std::string s = e->name + "(";
      for (size_t k = 0; k < e->kids.size(); ++k)
        s += (k ? ", " : "") + expr(e->kids[k]).text;
      return {s + ")", PAtom};
    }
    case DKind::Binder: {
      if (e->implicit)
        return expr(e->kids[0]);
      std::string s = e->name + "(";
      for (size_t k = 0; k < e->bound.size(); ++k)
        s += (k ? ", " : "") + name(e->bound[k]);
      return {s + ": " + expr(e->kids[0]).text + ")", PAtom};
    }
    case DKind::At: {
      std::string s = "(" + expr(e->kids[0]).text + " at ";
      for (size_t k = 0; k < e->bound.size(); ++k)
        s += (k ? ", " : "") + name(e->bound[k]) + " = " + index(e->subs[k]);
      return {s + ")", PAtom};
    }
    }
    return {"?", PAtom};
  }

private:
  /// e without the minus it starts with (-a, -2, -a*b), or null.
  static DExprPtr withoutMinus(const DExprPtr &e) {
    if (e->kind == DKind::Neg)
      return e->kids[0];
    if (e->kind == DKind::Number && e->number < 0)
      return number(-e->number);
    if (e->kind == DKind::Binary && (e->op == OpKind::Mul || e->op == OpKind::Div))
      if (DExprPtr a = withoutMinus(e->kids[0]))
        return binary(e->op, a, e->kids[1]);
    return nullptr;
  }

  Printed binaryExpr(const DExpr &e) const {
    // a + (-b*c) reads better as a - b*c.
    OpKind op = e.op;
    DExprPtr rhs = e.kids[1];
    if (op == OpKind::Add || op == OpKind::Sub)
      if (DExprPtr flipped = withoutMinus(rhs)) {
        op = op == OpKind::Add ? OpKind::Sub : OpKind::Add;
        rhs = flipped;
      }
    Printed a = expr(e.kids[0]);
    Printed b = expr(rhs);
    auto wrap = [](const Printed &p, bool paren) { return paren ? "(" + p.text + ")" : p.text; };
    switch (op) {
    case OpKind::Add:
      return {a.text + " + " + wrap(b, b.prec < PAdd), PAdd};
    case OpKind::Sub:
      return {wrap(a, a.prec < PAdd) + " - " + wrap(b, b.prec <= PAdd), PAdd};
    case OpKind::Mul:
      // a*(b*c) and a*(b/c) are the same numbers as a*b*c and a*b/c.
      return {wrap(a, a.prec < PMul) + "*" + wrap(b, b.prec < PMul || b.text[0] == '-'), PMul};
    case OpKind::Div:
      return {wrap(a, a.prec < PMul) + "/" + wrap(b, b.prec <= PMul || b.text[0] == '-'), PMul};
    default: {
      const char *sym = op == OpKind::Lt   ? " < "
                        : op == OpKind::Le ? " <= "
                        : op == OpKind::Gt ? " > "
                        : op == OpKind::Ge ? " >= "
                        : op == OpKind::Eq ? " == "
                                           : " != ";
      return {wrap(a, a.prec <= PCompare) + sym + wrap(b, b.prec <= PCompare), PCompare};
    }
    }
  }

  const std::vector<std::string> &names_;
};

std::vector<std::string> namesOf(const Line &line) {
  std::vector<std::string> n;
  for (auto &v : line.vars)
    n.push_back(v.name);
  return n;
}

void walkReads(const DExprPtr &e, const SubscriptFn &f);

void walkIndex(const DIndex &i, const SubscriptFn &f) {
  for (auto &[r, c] : i.reads)
    walkReads(r, f);
}

void walkReads(const DExprPtr &e, const SubscriptFn &f) {
  if (e->kind == DKind::Read) {
    Offsets offsets = offsetsOf(e->subs);
    for (size_t a = 0; a < e->subs.size(); ++a) {
      int v;
      int64_t off;
      if (e->subs[a].isVar(v, off))
        f(e->name, static_cast<int>(a), offsets, v);
    }
  }
  for (auto &s : e->subs)
    walkIndex(s, f);
  for (auto &k : e->kids)
    walkReads(k, f);
}

void collectVars(const DIndex &i, std::vector<int> &order);

void collectVars(const DExprPtr &e, std::vector<int> &order) {
  for (int v : e->bound)
    if (std::find(order.begin(), order.end(), v) == order.end())
      order.push_back(v);
  for (auto &s : e->subs)
    collectVars(s, order);
  for (auto &k : e->kids)
    collectVars(k, order);
}

void collectVars(const DIndex &i, std::vector<int> &order) {
  for (auto &[v, c] : i.vars)
    if (std::find(order.begin(), order.end(), v) == order.end())
      order.push_back(v);
  for (auto &[r, c] : i.reads)
    collectVars(r, order);
}

} // namespace

Offsets offsetsOf(const std::vector<DIndex> &subs) {
  Offsets o;
  for (const DIndex &i : subs) {
    int v;
    int64_t off;
    o.push_back(i.isVar(v, off) ? off : kNotVar);
  }
  return o;
}

void forEachVarSubscript(const Line &line, const SubscriptFn &f) {
  Offsets offsets = offsetsOf(line.at);
  for (size_t a = 0; a < line.at.size(); ++a) {
    int v;
    int64_t off;
    if (line.at[a].isVar(v, off))
      f(line.target, static_cast<int>(a), offsets, v);
    walkIndex(line.at[a], f);
  }
  walkReads(line.rhs, f);
}

void nameLine(Line &line, const NameVotes &votes,
              const std::function<std::string(int64_t)> &fallback,
              const std::function<bool(const std::string &)> &taken) {
  // Votes per variable, from every tensor axis it subscripts.
  std::vector<std::map<std::string, int>> score(line.vars.size());
  std::vector<std::vector<std::string>> firstSeen(line.vars.size());
  forEachVarSubscript(line,
                      [&](const std::string &tensor, int axis, const Offsets &offsets, int v) {
                        std::vector<std::pair<std::string, int>> got;
                        votes(tensor, axis, offsets, got);
                        for (auto &[n, w] : got) {
                          if (!score[v].count(n))
                            firstSeen[v].push_back(n);
                          score[v][n] += w;
                        }
                      });
  std::set<std::string> used;
  for (auto &v : line.vars)
    if (!v.name.empty())
      used.insert(v.name);
  std::vector<int> order;
  for (auto &s : line.at)
    collectVars(s, order);
  collectVars(line.rhs, order);
  auto free = [&](const std::string &n) { return !n.empty() && !used.count(n) && !taken(n); };
  // The two best free suggestions of v (ties to the first suggested).
  auto ranked = [&](int v, std::string &best, int &first, int &second) {
    best.clear();
    first = second = 0;
    for (const std::string &n : firstSeen[v]) {
      if (!free(n))
        continue;
      int s = score[v][n];
      if (s > first) {
        second = first;
        first = s;
        best = n;
      } else if (s > second) {
        second = s;
      }
    }
  };
  // Greedily, the variable that would lose most by not getting its best
  // name chooses first: in grad.a[b,k] = δr[b,j]*W2[j,k] the summed variable,
  // named j by both tensors it reads, takes j before the target's axis,
  // which is read as j and k alike, can.
  while (true) {
    int pick = -1, pickGap = -1, pickScore = 0;
    std::string pickName;
    for (int v : order) {
      if (!line.vars[v].name.empty())
        continue;
      std::string best;
      int first, second;
      ranked(v, best, first, second);
      if (!best.empty() &&
          (first - second > pickGap || (first - second == pickGap && first > pickScore))) {
        pick = v;
        pickGap = first - second;
        pickScore = first;
        pickName = best;
      }
    }
    if (pick < 0)
      break;
    line.vars[pick].name = pickName;
    used.insert(pickName);
  }
  // The rest: a suggestion primed (dx2 beside dx), a dim's name, a letter.
  for (int v : order) {
    DVar &dv = line.vars[v];
    if (!dv.name.empty())
      continue;
    std::string best;
    for (int k = 2; best.empty() && !firstSeen[v].empty() && k < 10; ++k)
      if (free(firstSeen[v][0] + std::to_string(k)))
        best = firstSeen[v][0] + std::to_string(k);
    if (best.empty() && free(fallback(dv.size)))
      best = fallback(dv.size);
    static const char *const letters[] = {"i", "j", "k", "l", "m", "n", "p", "q",
                                          "r", "s", "u", "v", "w", "a", "c", "d"};
    for (int round = 0; best.empty(); ++round)
      for (const char *l : letters) {
        std::string n = round ? l + std::to_string(round + 1) : std::string(l);
        if (free(n)) {
          best = n;
          break;
        }
      }
    dv.name = best;
    used.insert(best);
  }
}

std::string printExpr(const DExprPtr &e, const std::vector<std::string> &names) {
  return Printer(names).expr(e).text;
}

std::string printLine(const Line &line) {
  std::vector<std::string> names = namesOf(line);
  Printer p(names);
  std::string s = line.target + p.subscripts(line.at) + (line.accumulate ? " += " : " = ") +
                  p.expr(line.rhs).text;
  if (!line.note.empty())
    s += "    # " + line.note;
  return s;
}

} // namespace gradc::notation
