//===- notation/EqSource.cpp - What the source says about each equation ---===//
#include "notation/EqSource.h"

#include <algorithm>
#include <cctype>

namespace gradc::notation {

using namespace sema;

namespace {

bool isIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

bool skipName(const std::string &n) { return n.empty() || n[0] == '_' || n[0] == '.'; }

std::string baseName(const std::string &path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

void addLocs(const RExpr &e, std::set<std::tuple<uint32_t, uint32_t, uint32_t>> &out) {
  out.insert({e.loc.file, e.loc.line, e.loc.col});
  for (auto &s : e.subs)
    if (s.indirect)
      addLocs(*s.indirect, out);
  for (auto &k : e.kids)
    addLocs(*k, out);
}

} // namespace

SourceInfo::SourceInfo(const Model &m, const SourceManager &sm) : m_(m), sm_(sm) {
  eqVotes_.resize(m.equations.size());
  eqLocs_.resize(m.equations.size());
  for (size_t e = 0; e < m.equations.size(); ++e) {
    collectVotes(static_cast<int>(e), eqVotes_[e]);
    collectVotes(static_cast<int>(e), allVotes_);
    const Equation &eq = m.equations[e];
    eqLocs_[e].insert({eq.loc.file, eq.loc.line, eq.loc.col});
    if (eq.rhs)
      addLocs(*eq.rhs, eqLocs_[e]);
  }
  linkAxes();
  for (auto &t : m.tensors)
    reserved_.insert(t.name);
  std::vector<const std::vector<Unit> *> pending{&m.schedule};
  while (!pending.empty()) {
    const std::vector<Unit> *units = pending.back();
    pending.pop_back();
    for (const Unit &u : *units) {
      if (!u.group)
        continue;
      int id = static_cast<int>(groups_.size());
      groups_.emplace_back();
      for (size_t i = 0; i < u.group->tensors.size(); ++i) {
        const std::string &name = m.tensors[u.group->tensors[i]].name;
        groups_.back().push_back(name);
        groupOf_[name] = {u.group->axis[i], id};
      }
      pending.push_back(&u.group->body);
    }
  }
  for (auto &[name, size] : m.dims)
    reserved_.insert(name);
}

void SourceInfo::collectVotes(int e, AxisVotes &into) const {
  const Equation &eq = m_.equations[e];
  // The left side names the axes of what it defines: it outweighs reads.
  if (!eq.isUpdate) {
    Offsets lhs;
    for (auto &l : eq.lhs)
      lhs.push_back(l.var >= 0 ? 0 : kNotVar);
    for (size_t p = 0; p < eq.lhs.size(); ++p) {
      const std::string &n = eq.lhs[p].var >= 0 ? eq.vars[eq.lhs[p].var].name : "";
      if (!skipName(n))
        into[{m_.tensors[eq.tensor].name, static_cast<int>(p)}].push_back({n, 5, lhs});
    }
  }
  if (!eq.rhs)
    return;
  forEachRead(*eq.rhs, [&](const RExpr &r) {
    Offsets offsets;
    for (auto &sub : r.subs) {
      int v;
      int64_t off;
      offsets.push_back(sub.isSimpleVar(v, off) ? off : kNotVar);
    }
    for (size_t a = 0; a < r.subs.size(); ++a) {
      int v;
      int64_t off;
      if (r.subs[a].isSimpleVar(v, off) && !skipName(eq.vars[v].name))
        into[{m_.tensors[r.tensor].name, static_cast<int>(a)}].push_back(
            {eq.vars[v].name, 1, offsets});
    }
  });
}

int SourceInfo::classOf(const AxisKey &k) {
  auto it = axisClass_.find(k);
  int c;
  if (it == axisClass_.end()) {
    c = static_cast<int>(parent_.size());
    parent_.push_back(c);
    axisClass_[k] = c;
  } else {
    c = it->second;
  }
  while (parent_[c] != c)
    c = parent_[c] = parent_[parent_[c]];
  return c;
}

void SourceInfo::linkAxes() {
  for (const Equation &eq : m_.equations) {
    std::map<int, std::vector<AxisKey>> axesOf; // variable -> tensor axes it indexes
    if (!eq.isUpdate)
      for (size_t p = 0; p < eq.lhs.size(); ++p)
        if (eq.lhs[p].var >= 0)
          axesOf[eq.lhs[p].var].push_back({m_.tensors[eq.tensor].name, static_cast<int>(p)});
    if (eq.rhs)
      forEachRead(*eq.rhs, [&](const RExpr &r) {
        for (size_t a = 0; a < r.subs.size(); ++a) {
          int v;
          int64_t off;
          if (r.subs[a].isSimpleVar(v, off))
            axesOf[v].push_back({m_.tensors[r.tensor].name, static_cast<int>(a)});
        }
      });
    for (auto &[v, keys] : axesOf) {
      int root = classOf(keys[0]);
      for (const AxisKey &k : keys)
        parent_[classOf(k)] = root;
    }
  }
  for (const Equation &eq : m_.equations) {
    auto name = [&](const std::string &tensor, int axis, int v) {
      if (!skipName(eq.vars[v].name))
        ++classNames_[classOf({tensor, axis})][eq.vars[v].name];
    };
    if (!eq.isUpdate)
      for (size_t p = 0; p < eq.lhs.size(); ++p)
        if (eq.lhs[p].var >= 0)
          name(m_.tensors[eq.tensor].name, static_cast<int>(p), eq.lhs[p].var);
    if (eq.rhs)
      forEachRead(*eq.rhs, [&](const RExpr &r) {
        for (size_t a = 0; a < r.subs.size(); ++a) {
          int v;
          int64_t off;
          if (r.subs[a].isSimpleVar(v, off))
            name(m_.tensors[r.tensor].name, static_cast<int>(a), v);
        }
      });
  }
}

std::string SourceInfo::tensorFor(const std::string &irName) const {
  std::string prefix;
  std::string n = irName;
  if (n.rfind("grad.", 0) == 0 && m_.findTensor(n) < 0) {
    prefix = "grad.";
    n = n.substr(5);
  }
  // Suffixes the IR adds: uniquifiers (.1), recurrence storage and steps.
  static const char *const irSuffixes[] = {"step", "ext", "carried", "sum"};
  while (true) {
    if (m_.findTensor(n) >= 0)
      return prefix + n;
    size_t dot = n.find_last_of('.');
    if (dot == std::string::npos)
      return "";
    std::string last = n.substr(dot + 1);
    bool digits = !last.empty() && std::all_of(last.begin(), last.end(), [](char c) {
      return std::isdigit(static_cast<unsigned char>(c));
    });
    bool known = digits || std::find(std::begin(irSuffixes), std::end(irSuffixes), last) !=
                               std::end(irSuffixes);
    if (!known)
      return "";
    n = n.substr(0, dot);
  }
}

int SourceInfo::mainEquation(const std::string &tensor) const {
  int t = m_.findTensor(tensor);
  return t < 0 ? -1 : m_.tensors[t].mainEq;
}

std::vector<int> SourceInfo::boundaryEquations(const std::string &tensor) const {
  int t = m_.findTensor(tensor);
  return t < 0 ? std::vector<int>{} : m_.tensors[t].boundaryEqs;
}

int SourceInfo::recurrenceAxis(const std::string &tensor) const {
  auto it = groupOf_.find(tensor);
  return it == groupOf_.end() ? -1 : it->second.first;
}

std::vector<std::string> SourceInfo::recurrenceGroup(const std::string &tensor) const {
  auto it = groupOf_.find(tensor);
  return it == groupOf_.end() ? std::vector<std::string>{} : groups_[it->second.second];
}

int SourceInfo::rankOf(const std::string &tensor) const {
  int t = m_.findTensor(tensor);
  return t < 0 ? -1 : static_cast<int>(m_.tensors[t].shape.size());
}

int64_t SourceInfo::extentOf(const std::string &tensor, int axis) const {
  return m_.tensors[m_.findTensor(tensor)].shape[axis];
}

bool SourceInfo::equationHasLoc(int eq, SourceLoc loc) const {
  return eqLocs_[eq].count({loc.file, loc.line, loc.col}) > 0;
}

size_t SourceInfo::offsetOf(SourceLoc loc) const {
  const std::string &text = sm_.text(loc.file);
  std::string_view line = sm_.lineText(loc.file, loc.line);
  size_t p = static_cast<size_t>(line.data() - text.data());
  // Columns count code points: step over UTF-8 continuation bytes.
  for (uint32_t c = 1; c < loc.col && p < text.size();) {
    ++p;
    if (p >= text.size() || (static_cast<unsigned char>(text[p]) & 0xC0) != 0x80)
      ++c;
  }
  return p;
}

namespace {

/// The end of the statement (or, for `item`, of the expression) that starts
/// at `p`: a newline or `;` outside brackets, a comment, or for an item a
/// `,`, `->` or closing bracket at its own depth.
size_t scanEnd(const std::string &t, size_t p, bool item) {
  int depth = 0;
  for (; p < t.size(); ++p) {
    char c = t[p];
    if (c == '#') {
      if (depth == 0)
        break;
      while (p + 1 < t.size() && t[p + 1] != '\n') // a comment inside brackets
        ++p;
    } else if (c == '(' || c == '[' || c == '{') {
      ++depth;
    } else if (c == ')' || c == ']' || c == '}') {
      if (depth == 0)
        break;
      --depth;
    } else if (depth == 0 && (c == '\n' || c == ';')) {
      break;
    } else if (item && depth == 0 &&
               (c == ',' || (c == '-' && p + 1 < t.size() && t[p + 1] == '>'))) {
      break;
    }
  }
  return p;
}

/// True when the text at `p` is `name[...] =` or `name =`: the left side of
/// an equation statement (a def's return item or a call argument is not).
bool startsEquation(const std::string &t, size_t p) {
  size_t q = p;
  while (q < t.size() && isIdentChar(t[q]))
    ++q;
  if (q == p)
    return false;
  std::string word = t.substr(p, q - p);
  if ((word == "update" || word == "metric") && q < t.size() && t[q] == ' ')
    return true;
  while (q < t.size() && t[q] == ' ')
    ++q;
  if (q < t.size() && t[q] == '[') {
    q = scanEnd(t, q + 1, false);
    if (q >= t.size() || t[q] != ']')
      return false;
    ++q;
    while (q < t.size() && t[q] == ' ')
      ++q;
  }
  return q + 1 < t.size() && t[q] == '=' && t[q + 1] != '=';
}

} // namespace

/// When tensor t's equation copies another tensor whole, that tensor.
static int copiedFrom(const Model &m, int t) {
  int e = m.tensors[t].mainEq;
  if (e < 0 || !m.equations[e].rhs)
    return -1;
  const Equation &eq = m.equations[e];
  const RExpr &r = *eq.rhs;
  if (r.kind != RKind::Read || r.subs.size() != eq.lhs.size() ||
      m.tensors[r.tensor].shape != m.tensors[t].shape)
    return -1;
  for (size_t p = 0; p < r.subs.size(); ++p) {
    int v;
    int64_t off;
    if (!r.subs[p].isSimpleVar(v, off) || off != 0 || v != eq.lhs[p].var)
      return -1;
  }
  return r.tensor;
}

std::string SourceInfo::header(int e, const std::function<bool(const std::string &)> &shown) const {
  const Equation &eq = m_.equations[e];
  const std::string &text = sm_.text(eq.loc.file);
  size_t begin = offsetOf(eq.loc);
  bool statement = startsEquation(text, begin);
  size_t end = scanEnd(text, begin, !statement);

  // Tensors read (and, for a statement, defined) where the text names them
  // otherwise: a def's parameters and locals take the call's names.
  std::map<size_t, std::string> renames;
  auto rename = [&](SourceLoc at, const std::string &name) {
    if (at.file != eq.loc.file)
      return;
    size_t p = offsetOf(at);
    size_t q = p;
    while (q < text.size() && isIdentChar(text[q]))
      ++q;
    size_t r = q;
    while (r < text.size() && text[r] == ' ')
      ++r;
    if (q > p && p >= begin && q <= end && (r >= text.size() || text[r] != '(') &&
        text.compare(p, q - p, name) != 0)
      renames[p] = name;
  };
  auto nameOf = [&](int t) {
    for (int hops = 0; hops < 64 && !shown(m_.tensors[t].name); ++hops) {
      int from = copiedFrom(m_, t);
      if (from < 0)
        break;
      t = from;
    }
    return m_.tensors[t].name;
  };
  if (statement && !eq.isUpdate)
    rename(eq.loc, nameOf(eq.tensor));
  if (eq.rhs)
    forEachRead(*eq.rhs, [&](const RExpr &r) { rename(r.loc, nameOf(r.tensor)); });

  auto copy = [&](size_t from, size_t to) {
    std::string out;
    for (size_t p = from; p < to; ++p) {
      auto it = renames.find(p);
      if (it != renames.end()) {
        out += it->second;
        while (p + 1 < to && isIdentChar(text[p + 1]))
          ++p;
        continue;
      }
      char c = text[p];
      if (c == '#') { // a comment inside brackets
        while (p + 1 < to && text[p + 1] != '\n')
          ++p;
        continue;
      }
      if (std::isspace(static_cast<unsigned char>(c))) {
        if (!out.empty() && out.back() != ' ' && out.back() != '(' && out.back() != '[')
          out += ' ';
        continue;
      }
      if ((c == ')' || c == ']') && !out.empty() && out.back() == ' ')
        out.pop_back();
      out += c;
    }
    while (!out.empty() && out.back() == ' ')
      out.pop_back();
    return out;
  };
  std::string body = copy(begin, end);
  if (statement)
    return body;
  // A return item or a call argument: give it its left side.
  std::string lhs = nameOf(eq.tensor);
  size_t p = end;
  while (p < text.size() && text[p] == ' ')
    ++p;
  if (p + 1 < text.size() && text[p] == '-' && text[p + 1] == '>') {
    size_t open = p + 2;
    while (open < text.size() && text[open] == ' ')
      ++open;
    if (open < text.size() && text[open] == '[') {
      size_t close = scanEnd(text, open + 1, false);
      if (close < text.size())
        lhs += copy(open, close + 1);
    }
  }
  return lhs + " = " + body;
}

std::string SourceInfo::statementAt(SourceLoc loc) const {
  std::string_view line = sm_.lineText(loc.file, loc.line);
  std::string s(line.substr(0, std::min(line.find('#'), line.size())));
  size_t a = s.find_first_not_of(" \t");
  size_t b = s.find_last_not_of(" \t");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

std::string SourceInfo::where(SourceLoc loc) const {
  std::string s = baseName(sm_.path(loc.file)) + ":" + std::to_string(loc.line);
  // The def around the line, if any: defs and models start in column 1.
  for (uint32_t l = loc.line; l >= 1 && loc.line - l < 4000; --l) {
    std::string_view t = sm_.lineText(loc.file, l);
    if (t.rfind("model ", 0) == 0)
      break;
    if (t.rfind("def ", 0) == 0) {
      size_t p = 4;
      while (p < t.size() && t[p] == ' ')
        ++p;
      size_t q = p;
      while (q < t.size() && isIdentChar(t[q]))
        ++q;
      s += ", in " + std::string(t.substr(p, q - p));
      break;
    }
  }
  return s;
}

void SourceInfo::votes(int eq, const std::string &tensor, int axis, const Offsets *pattern,
                       std::vector<std::pair<std::string, int>> &out) const {
  const AxisVotes &table = eq >= 0 ? eqVotes_[eq] : allVotes_;
  auto it = table.find({tensor, axis});
  if (it != table.end()) {
    for (const Vote &v : it->second)
      out.push_back({v.name, pattern && v.offsets == *pattern ? 3 * v.weight : 1});
    return;
  }
  if (eq >= 0)
    return;
  auto k = axisClass_.find({tensor, axis});
  if (k == axisClass_.end())
    return;
  int c = k->second;
  while (parent_[c] != c)
    c = parent_[c];
  auto names = classNames_.find(c);
  if (names != classNames_.end())
    for (auto &[n, count] : names->second)
      out.push_back({n, 1});
}

std::string SourceInfo::dimName(int64_t size) const {
  std::string found;
  for (auto &[name, value] : m_.dims) {
    if (value != size)
      continue;
    if (!found.empty())
      return ""; // two dims of this size: no telling which one this is
    found = name;
  }
  std::transform(found.begin(), found.end(), found.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  return found;
}

bool SourceInfo::reserved(const std::string &n) const { return reserved_.count(n) > 0; }

} // namespace gradc::notation
