//===- ir/Printer.cpp - The IR's text form --------------------------------===//
#include "ir/Printer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace gradc::ir {

namespace {

bool isBareChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.';
}

/// A string literal with the escapes the IR lexer reads back.
std::string quote(const std::string &s) {
  std::string r = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      r += '\\';
      r += c;
    } else if (c == '\n') {
      r += "\\n";
    } else if (c == '\t') {
      r += "\\t";
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
      r += buf;
    } else {
      r += c;
    }
  }
  return r + "\"";
}

/// A name after a sigil (% or @): bare when it only has name characters.
std::string sigilName(char sigil, const std::string &name) {
  bool bare = !name.empty() && std::all_of(name.begin(), name.end(), isBareChar);
  return std::string(1, sigil) + (bare ? name : quote(name));
}

std::string printLoc(SourceLoc loc, const SourceManager *sm) {
  // describe() is the one query that tolerates a file id the manager does
  // not know, which a hand-built graph may carry.
  if (!sm || !loc.valid() || sm->describe(loc) == "<unknown>")
    return "";
  return " loc(" + quote(sm->path(loc.file)) + ":" + std::to_string(loc.line) + ":" +
         std::to_string(loc.col) + ")";
}

std::string printTypes(const std::vector<Value *> &vs) {
  std::string s;
  for (size_t i = 0; i < vs.size(); ++i)
    s += (i ? ", " : "") + (vs[i] ? vs[i]->type.str() : std::string("?"));
  return s;
}

std::string printIntList(const std::vector<int64_t> &xs) {
  std::string s = "[";
  for (size_t i = 0; i < xs.size(); ++i)
    s += (i ? "," : "") + std::to_string(xs[i]);
  return s + "]";
}

std::string printInit(const InitSpec &init) {
  switch (init.kind) {
  case InitSpec::None:
    return "";
  case InitSpec::Zeros:
    return " zeros()";
  case InitSpec::Ones:
    return " ones()";
  case InitSpec::Constant:
    return " constant(" + formatDouble(init.a) + ")";
  case InitSpec::Normal:
    return " normal(" + formatDouble(init.a) + ")";
  case InitSpec::Uniform:
    return " uniform(" + formatDouble(init.a) + ", " + formatDouble(init.b) + ")";
  case InitSpec::He:
    return " he(fan_in=" + std::to_string(init.fanIn) + ")";
  case InitSpec::Lecun:
    return " lecun(fan_in=" + std::to_string(init.fanIn) + ")";
  case InitSpec::Xavier:
    return " xavier(fan_in=" + std::to_string(init.fanIn) +
           ", fan_out=" + std::to_string(init.fanOut) + ")";
  }
  return " ?";
}

/// Prints the index maps of one remap, scatter_add or contract op.
class MapPrinter {
public:
  explicit MapPrinter(const Op &op)
      : op_(op),
        rank_(op.results.empty() || !op.results[0] ? 0
                                                   : static_cast<int>(op.results[0]->type.rank())) {
  }

  std::string operand(int k) const {
    if (k < 0 || k >= static_cast<int>(op_.operands.size()))
      return "%?" + std::to_string(k);
    return printValueName(op_.operands[k]);
  }

  /// `%x[d0, %t - 1, %tok[d1] + 2]`
  std::string access(int k, const IndexMap &map) const { return operand(k) + positions(map); }

  /// `[d0, %t - 1, %tok[d1] + 2]`: one position per axis of the tensor
  /// accessed (an operand, or the result of scatter_add and of a contract
  /// with an output map).
  std::string positions(const IndexMap &map) const {
    std::string s = "[";
    for (size_t i = 0; i < map.size(); ++i) {
      if (i)
        s += ", ";
      const AxisIndex &ax = map[i];
      if (ax.isIndirect()) {
        s += operand(ax.indirect) + "[";
        for (size_t j = 0; j < ax.indirectAt.size(); ++j)
          s += (j ? ", " : "") + affine(ax.indirectAt[j], true);
        s += "]" + affine(ax.pos, false);
      } else {
        s += affine(ax.pos, true);
      }
    }
    return s + "]";
  }

private:
  std::string var(int v) const {
    if (v < 0) {
      size_t sym = static_cast<size_t>(-(v + 1));
      if (sym >= op_.symbols.size())
        return "%?s" + std::to_string(sym);
      return printValueName(op_.symbols[sym]);
    }
    // With an output map every loop of a contract is a reduction-style
    // loop: there are no result-axis variables to number first.
    if (op_.kind == OpKind::Contract && !op_.outMap.empty())
      return "r" + std::to_string(v);
    if (op_.kind == OpKind::Contract && v >= rank_)
      return "r" + std::to_string(v - rank_);
    return "d" + std::to_string(v);
  }

  /// Canonical form: loop variables ascending, then symbols by name (not by
  /// symbol number, which the parser assigns in order of first use), then
  /// the constant. `first` is false when the expression continues a term
  /// already printed, so that it starts with " + " or " - ".
  std::string affine(const Affine &a, bool first) const {
    Affine canon;
    for (auto &[v, c] : a.terms)
      canon.add(v, c);
    std::vector<std::pair<std::string, int64_t>> terms;
    for (auto &[v, c] : canon.terms)
      terms.emplace_back(var(v), c);
    auto symbolsBegin =
        std::find_if(canon.terms.begin(), canon.terms.end(), [](auto &t) { return t.first < 0; });
    std::sort(terms.begin() + (symbolsBegin - canon.terms.begin()), terms.end());
    std::string s;
    for (auto &[name, c] : terms) {
      uint64_t mag = c < 0 ? 0 - static_cast<uint64_t>(c) : static_cast<uint64_t>(c);
      std::string coeff = mag == 1 ? "" : std::to_string(mag) + "*";
      if (first)
        s += (c < 0 ? "-" : "") + coeff + name;
      else
        s += (c < 0 ? " - " : " + ") + coeff + name;
      first = false;
    }
    int64_t k = a.constant;
    if (first)
      s += std::to_string(k);
    else if (k != 0)
      s += (k < 0 ? " - " : " + ") +
           std::to_string(k < 0 ? 0 - static_cast<uint64_t>(k) : static_cast<uint64_t>(k));
    return s;
  }

  const Op &op_;
  int rank_;
};

std::string printAxes(const std::vector<int> &axes) {
  return printIntList(std::vector<int64_t>(axes.begin(), axes.end()));
}

/// What follows the mnemonic: operands and attributes.
std::string printOperandsAndAttrs(const Op &op) {
  auto operand = [&](size_t i) {
    return i < op.operands.size() ? printValueName(op.operands[i]) : std::string("%?");
  };
  auto operandList = [&] {
    std::string s;
    for (size_t i = 0; i < op.operands.size(); ++i)
      s += (i ? ", " : " ") + operand(i);
    return s;
  };
  switch (op.opClass()) {
  case OpClass::Leaf:
    if (op.kind == OpKind::Constant)
      return " " + formatDouble(op.value);
    if (op.kind == OpKind::Iota)
      return " axis=" + (op.axes.empty() ? std::string("?") : std::to_string(op.axes[0]));
    return " " + quote(op.name) + printInit(op.init);
  case OpClass::Unary:
    if (op.kind == OpKind::PowC)
      return " " + operand(0) + " ^ " + formatDouble(op.value);
    return operandList();
  case OpClass::Binary:
  case OpClass::Ternary:
    return operandList();
  case OpClass::Remap: {
    MapPrinter mp(op);
    return " " + mp.access(0, op.maps.empty() ? IndexMap{} : op.maps[0]);
  }
  case OpClass::Scatter: {
    // The map names where each source element goes, so it follows an arrow
    // rather than subscripting the source.
    MapPrinter mp(op);
    return " " + operand(0) + " -> " + mp.positions(op.maps.empty() ? IndexMap{} : op.maps[0]);
  }
  case OpClass::Contract: {
    MapPrinter mp(op);
    std::string s;
    size_t n = std::max(op.operands.size(), op.maps.size());
    for (size_t k = 0; k < n; ++k)
      s += (k ? ", " : " ") +
           mp.access(static_cast<int>(k), k < op.maps.size() ? op.maps[k] : IndexMap{});
    if (!op.reductionSizes.empty())
      s += " r=" + printIntList(op.reductionSizes);
    if (!op.outMap.empty())
      s += " -> " + mp.positions(op.outMap);
    return s;
  }
  case OpClass::Reduce:
  case OpClass::Normalize:
    return " " + operand(0) + " axes=" + printAxes(op.axes);
  case OpClass::Recurrence: {
    std::string s =
        " steps=" + std::to_string(op.steps) + (op.reverse ? " reverse (" : " forward (");
    for (size_t i = 0; i < op.operands.size(); ++i) {
      s += (i ? ", " : "") + operand(i);
      if (i < op.carried.size())
        s += " axis=" + std::to_string(op.carried[i].axis) +
             " offset=" + std::to_string(op.carried[i].offset);
    }
    s += ") args(";
    if (op.body)
      for (size_t i = 0; i < op.body->args.size(); ++i)
        s += (i ? ", " : "") + printValueName(op.body->args[i]);
    return s + ")";
  }
  case OpClass::Yield: {
    std::string s;
    for (size_t i = 0; i < op.operands.size(); ++i) {
      s += (i ? ", " : " ") + operand(i);
      if (i >= op.yields.size())
        continue;
      const YieldInfo &y = op.yields[i];
      s += " -> " + std::to_string(y.carried);
      if (y.delta != 0)
        s += " delta=" + std::to_string(y.delta);
      if (y.whole)
        s += " whole";
      s += y.accumulate ? " add" : " set";
    }
    return s;
  }
  }
  return "";
}

void printRegionOps(std::string &out, const Region &r, const SourceManager *sm, int indent) {
  for (auto &op : r.ops)
    out += printOp(*op, sm, indent);
}

std::string resultNames(const Op &op) {
  std::string s;
  for (size_t i = 0; i < op.results.size(); ++i)
    s += (i ? ", " : "") + printValueName(op.results[i]);
  return s;
}

} // namespace

std::string formatDouble(double v) {
  if (std::isnan(v))
    return "nan";
  if (std::isinf(v))
    return v < 0 ? "-inf" : "inf";
  char buf[40];
  // Whole numbers read better in full ("1000", not "1e+03").
  if (v == std::trunc(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v)
      break;
  }
  return buf;
}

std::string printValueName(const Value *v) { return v ? sigilName('%', v->name) : "%<null>"; }

std::string describeOp(const Op &op) {
  std::string head = resultNames(op);
  return head.empty() ? op.mnemonic() : head + " = " + op.mnemonic();
}

std::string printOp(const Op &op, const SourceManager *sm, int indent) {
  std::string pad(2 * indent, ' ');
  std::string s = pad;
  if (!op.results.empty())
    s += resultNames(op) + " = ";
  if (op.backward)
    s += "bwd ";
  s += op.mnemonic() + printOperandsAndAttrs(op);
  if (op.kind == OpKind::Recurrence) {
    s += " {\n";
    if (op.body)
      printRegionOps(s, *op.body, sm, indent + 1);
    s += pad + "}";
  }
  if (!op.results.empty())
    s += " : " + printTypes(op.results);
  return s + printLoc(op.loc, sm) + "\n";
}

std::string printGraph(const Graph &g, const SourceManager *sm) {
  std::string s =
      "graph " + sigilName('@', g.modelName) + " training=" + (g.training ? "1" : "0") + " {\n";
  printRegionOps(s, g.top, sm, 1);
  auto named = [&](const char *what, const NamedValue &nv) {
    s += std::string("  ") + what + " " + quote(nv.name) + " = " + printValueName(nv.value) +
         printLoc(nv.loc, sm) + "\n";
  };
  for (auto &o : g.outputs)
    named("output", o);
  if (g.loss.value)
    named("minimize", g.loss);
  for (auto &m : g.metrics)
    named("metric", m);
  for (auto &u : g.updates)
    s += "  update " + printValueName(u.state) + " = " + printValueName(u.value) +
         printLoc(u.loc, sm) + "\n";
  for (auto &gr : g.gradients)
    named("gradient", gr);
  return s + "}\n";
}

} // namespace gradc::ir
