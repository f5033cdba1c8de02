//===- ir/IRParser.cpp - Reading the IR's text form back ------------------===//
//
// A recursive-descent parser over IRLexer tokens. Each op is first read into
// a detached Op (the "spec": kind, operands, attributes, with the printed
// result types on temporary values), checked with verifyOp, and only then
// built through the Builder, which computes the result type again; the
// printed and computed types must agree. Printed names are then given to
// the new values.
//
//===----------------------------------------------------------------------===//
#include "ir/IRParser.h"

#include "ir/Builder.h"
#include "ir/IRLexer.h"
#include "ir/Verifier.h"
#include "support/Assert.h"

#include <unordered_map>
#include <unordered_set>

namespace gradc::ir {

namespace {

/// A reduction variable r<N> is read before the result rank is known (the
/// type comes last on the line) and before it is known whether a contract
/// has an output map; it is numbered kReductionBase + N until
/// resolveLoopVars renumbers it to rank + N, or to N with an output map.
constexpr int kReductionBase = 1 << 20;

class IRParser : IRTokenReader {
public:
  IRParser(std::string text, uint32_t file, SourceManager &sm, DiagnosticEngine &diags)
      : IRTokenReader(std::move(text), file, sm, diags), g_(std::make_unique<Graph>()), b_(*g_) {}

  std::unique_ptr<Graph> parseGraph();

private:
  // Values and scopes.
  Value *lookup(const Token &name);
  Value *useValue() { return lookup(expect(TokKind::ValueName, "a %value")); }
  void bindNames(const std::vector<Value *> &vals, const std::vector<Token> &names);
  void makeVisible(const std::vector<Value *> &vals);
  void popScope();

  // Statements and ops.
  void parseStatement(bool topLevel);
  void parseNamed(const Token &kw);
  void parseOp();
  void parseOperands(Op &spec);
  void parseAccess(Op &spec);
  IndexMap parseMap(Op &spec, bool allowIndirect);
  AxisIndex parseAxis(Op &spec, bool allowIndirect);
  void parseTerm(Op &spec, AxisIndex &ax, int64_t sign, bool allowIndirect);
  int loopVar(const Token &w, const Op &spec);
  void resolveLoopVars(Op &spec, int64_t rank);
  void verifySpec(Op &spec, const std::vector<TensorType> &types, const std::vector<Token> &names,
                  SourceLoc at);
  Op *build(const Op &spec, const TensorType &type);
  void parseRecurrence(Op &spec, const std::vector<Token> &names, SourceLoc start);

  std::unique_ptr<Graph> g_;
  Builder b_;
  std::unordered_map<std::string, Value *> names_; // every value defined so far
  std::unordered_set<const Value *> visible_;      // those in scope here
  std::vector<std::vector<Value *>> scopes_;       // per open region
  // The highest loop variables of the op being read, checked once its
  // result rank and reduction count are known.
  int maxD_ = -1, maxR_ = -1;
  SourceLoc maxDLoc_, maxRLoc_;
};

//===--- Values and scopes ------------------------------------------------===//

Value *IRParser::lookup(const Token &name) {
  auto it = names_.find(name.text);
  if (it == names_.end())
    error(name.loc, "undefined value %" + name.text);
  if (!visible_.count(it->second))
    error(name.loc, "value %" + name.text + " is not in scope here");
  return it->second;
}

/// Gives new values their printed names. The Builder named them
/// provisionally, and a provisional name may be the very name a sibling
/// wants, so a sibling holding the wanted name is moved aside first.
void IRParser::bindNames(const std::vector<Value *> &vals, const std::vector<Token> &names) {
  GRADC_ASSERT(vals.size() == names.size(), "value/name count");
  for (size_t i = 0; i < vals.size(); ++i)
    if (!names_.emplace(names[i].text, vals[i]).second)
      error(names[i].loc, "redefinition of %" + names[i].text);
  for (size_t i = 0; i < vals.size(); ++i) {
    const std::string &want = names[i].text;
    for (size_t j = i + 1; j < vals.size(); ++j)
      if (vals[j]->name == want)
        g_->rename(vals[j], "");
    if (vals[i]->name != want)
      g_->rename(vals[i], want);
    GRADC_ASSERT(vals[i]->name == want, "printed name taken: " + want);
  }
}

void IRParser::makeVisible(const std::vector<Value *> &vals) {
  for (Value *v : vals) {
    visible_.insert(v);
    scopes_.back().push_back(v);
  }
}

void IRParser::popScope() {
  for (Value *v : scopes_.back())
    visible_.erase(v);
  scopes_.pop_back();
}

//===--- Graph and statements ---------------------------------------------===//

std::unique_ptr<Graph> IRParser::parseGraph() {
  SourceLoc start = tok_.loc;
  expectWord("graph");
  g_->modelName = expect(TokKind::GraphName, "the graph's @name").text;
  expectWord("training");
  expectPunct("=");
  SourceLoc at = tok_.loc;
  int64_t training = parseInt();
  if (training > 1)
    error(at, "training is 0 or 1");
  g_->training = training == 1;
  expectPunct("{");
  scopes_.emplace_back();
  while (!consumePunct("}")) {
    if (tok_.kind == TokKind::Eof)
      errorExpected("'}' at the end of the graph");
    parseStatement(true);
  }
  if (tok_.kind != TokKind::Eof)
    errorExpected("the end of the input");
  // The parser checks each op as it reads it; this catches anything else.
  std::vector<std::string> errs = verifyGraph(*g_);
  for (auto &e : errs)
    diags_.error(start, "invalid graph: " + e);
  if (!errs.empty())
    throw UserError();
  return std::move(g_);
}

void IRParser::parseStatement(bool topLevel) {
  static const char *kNamed[] = {"output", "minimize", "metric", "gradient", "update"};
  for (const char *kw : kNamed)
    if (tok_.isWord(kw)) {
      if (!topLevel)
        error(tok_.loc, "'" + tok_.text + "' is only allowed at the top level of the graph");
      parseNamed(take());
      return;
    }
  parseOp();
}

/// named ::= ('output'|'minimize'|'metric'|'gradient') STRING '=' %V loc?
///         | 'update' %V '=' %V loc?
void IRParser::parseNamed(const Token &kw) {
  if (kw.text == "update") {
    Token stateTok = tok_;
    Value *state = useValue();
    expectPunct("=");
    Token valueTok = tok_;
    Value *value = useValue();
    SourceLoc loc = parseOptionalLoc();
    if (!state->def || state->def->kind != OpKind::State)
      error(stateTok.loc, "%" + stateTok.text + " is not a state");
    if (state->type != value->type)
      error(valueTok.loc,
            "the new value has type " + value->type.str() + ", the state " + state->type.str());
    g_->updates.push_back({state, value, loc});
    return;
  }
  NamedValue nv;
  nv.name = expect(TokKind::String, "a name string").text;
  expectPunct("=");
  Token valueTok = tok_;
  nv.value = useValue();
  nv.loc = parseOptionalLoc();
  if (kw.text == "output") {
    g_->outputs.push_back(nv);
  } else if (kw.text == "metric") {
    g_->metrics.push_back(nv);
  } else if (kw.text == "gradient") {
    g_->gradients.push_back(nv);
  } else {
    if (g_->loss.value)
      error(kw.loc, "the graph already has a loss");
    if (nv.value->type != TensorType::f32({}))
      error(valueTok.loc, "the loss must be f32[], not " + nv.value->type.str());
    g_->loss = nv;
  }
}

/// op ::= (%V (',' %V)* '=')? 'bwd'? MNEMONIC operands (':' type)? loc?
void IRParser::parseOp() {
  SourceLoc start = tok_.loc;
  std::vector<Token> names;
  if (tok_.kind == TokKind::ValueName) {
    do
      names.push_back(expect(TokKind::ValueName, "a %value"));
    while (consumePunct(","));
    expectPunct("=");
  }
  Op spec;
  spec.backward = consumeWord("bwd");
  if (tok_.kind != TokKind::Word)
    errorExpected("an op");
  Token mnemonic = take();
  if (!opFromMnemonic(mnemonic.text, spec.kind))
    error(mnemonic.loc, "unknown op '" + mnemonic.text + "'");
  spec.parent = b_.region();
  maxD_ = maxR_ = -1;
  if (spec.kind == OpKind::Recurrence)
    return parseRecurrence(spec, names, start);
  size_t wantResults = spec.kind == OpKind::Yield ? 0 : 1;
  if (names.size() != wantResults)
    error(start, std::string(spec.mnemonic()) + " has " + std::to_string(wantResults) + " result" +
                     (wantResults == 1 ? "" : "s") + ", not " + std::to_string(names.size()));
  parseOperands(spec);
  std::vector<TensorType> types;
  SourceLoc typeLoc;
  if (wantResults) {
    expectPunct(":");
    typeLoc = tok_.loc;
    types.push_back(parseType());
  }
  spec.loc = parseOptionalLoc();
  resolveLoopVars(spec, types.empty() ? 0 : types[0].rank());
  verifySpec(spec, types, names, start);
  b_.setLoc(spec.loc);
  b_.setBackward(spec.backward);
  Op *op = build(spec, types.empty() ? TensorType{} : types[0]);
  if (wantResults && op->result()->type != types[0])
    error(typeLoc,
          "type " + types[0].str() + " does not match the op's type " + op->result()->type.str());
  bindNames(op->results, names);
  makeVisible(op->results);
}

void IRParser::parseOperands(Op &spec) {
  switch (spec.opClass()) {
  case OpClass::Leaf:
    if (spec.kind == OpKind::Constant) {
      spec.value = parseNumber();
    } else if (spec.kind == OpKind::Iota) {
      expectWord("axis");
      expectPunct("=");
      spec.axes = {parseSmallInt()};
    } else {
      spec.name = expect(TokKind::String, "the leaf's name string").text;
      if (tok_.kind == TokKind::Word && !tok_.isWord("loc"))
        spec.init = parseInit();
    }
    return;
  case OpClass::Unary:
    spec.operands = {useValue()};
    if (spec.kind == OpKind::PowC) {
      expectPunct("^");
      spec.value = parseNumber();
    }
    return;
  case OpClass::Binary:
  case OpClass::Ternary:
    for (int k = 0; k < opArity(spec.kind); ++k) {
      if (k)
        expectPunct(",");
      spec.operands.push_back(useValue());
    }
    return;
  case OpClass::Remap:
    return parseAccess(spec);
  case OpClass::Scatter:
    // scatter_add ::= %V '->' '[' axis (',' axis)* ']'
    spec.operands.push_back(useValue());
    expectPunct("->");
    spec.maps.push_back(parseMap(spec, true));
    return;
  case OpClass::Contract:
    do
      parseAccess(spec);
    while (consumePunct(","));
    if (consumeWord("r")) {
      expectPunct("=");
      spec.reductionSizes = parseIntList();
    }
    if (consumePunct("->"))
      spec.outMap = parseMap(spec, false);
    return;
  case OpClass::Reduce:
  case OpClass::Normalize:
    spec.operands = {useValue()};
    expectWord("axes");
    expectPunct("=");
    for (int64_t a : parseIntList())
      spec.axes.push_back(a > (1 << 30) ? -1 : static_cast<int>(a));
    return;
  case OpClass::Yield:
    // yield ::= (%V '->' INT ('delta' '=' SINT)? 'whole'? ('set'|'add')) (',' ...)*
    if (tok_.kind != TokKind::ValueName)
      return;
    do {
      spec.operands.push_back(useValue());
      expectPunct("->");
      YieldInfo y;
      y.carried = parseSmallInt();
      if (consumeWord("delta")) {
        expectPunct("=");
        y.delta = parseSignedInt();
      }
      y.whole = consumeWord("whole");
      if (!tok_.isWord("set") && !tok_.isWord("add"))
        errorExpected("'set' or 'add'");
      y.accumulate = take().text == "add";
      spec.yields.push_back(y);
    } while (consumePunct(","));
    return;
  case OpClass::Recurrence:
    break;
  }
  GRADC_UNREACHABLE("recurrence operands are parsed by parseRecurrence");
}

//===--- Index maps -------------------------------------------------------===//

/// access ::= %V map
void IRParser::parseAccess(Op &spec) {
  spec.operands.push_back(useValue());
  spec.maps.push_back(parseMap(spec, spec.kind == OpKind::Remap));
}

/// map ::= '[' (axis (',' axis)*)? ']'
IndexMap IRParser::parseMap(Op &spec, bool allowIndirect) {
  IndexMap map;
  expectPunct("[");
  if (!consumePunct("]")) {
    do
      map.push_back(parseAxis(spec, allowIndirect));
    while (consumePunct(","));
    expectPunct("]");
  }
  return map;
}

/// axis ::= '-'? term (('+'|'-') term)*
AxisIndex IRParser::parseAxis(Op &spec, bool allowIndirect) {
  AxisIndex ax;
  int64_t sign = consumePunct("-") ? -1 : 1;
  for (;;) {
    parseTerm(spec, ax, sign, allowIndirect);
    if (consumePunct("+"))
      sign = 1;
    else if (consumePunct("-"))
      sign = -1;
    else
      return ax;
  }
}

/// term ::= INT | INT '*' var | var | %V '[' affine (',' affine)* ']'
/// var  ::= d<N> | r<N> | %V
void IRParser::parseTerm(Op &spec, AxisIndex &ax, int64_t sign, bool allowIndirect) {
  int64_t coeff = sign;
  if (tok_.kind == TokKind::Integer) {
    int64_t k = parseInt();
    if (!consumePunct("*")) {
      ax.pos.constant += sign * k;
      return;
    }
    coeff = sign * k;
  }
  if (tok_.kind == TokKind::Word) {
    Token w = take();
    ax.pos.add(loopVar(w, spec), coeff);
    return;
  }
  if (tok_.kind != TokKind::ValueName)
    errorExpected("an index expression");
  Token name = take();
  Value *v = lookup(name);
  if (!tok_.isPunct("[")) {
    if (v->type.dtype != DType::Index)
      error(name.loc, "%" + name.text + " is not a step variable");
    size_t s = 0;
    while (s < spec.symbols.size() && spec.symbols[s] != v)
      ++s;
    if (s == spec.symbols.size())
      spec.symbols.push_back(v);
    ax.pos.add(Affine::symbolVar(static_cast<int>(s)), coeff);
    return;
  }
  if (!allowIndirect || coeff != 1 || ax.isIndirect())
    error(name.loc, "an indirect index may only appear in the map of a remap or scatter_add, "
                    "once per axis, added with coefficient 1");
  size_t k = 1;
  while (k < spec.operands.size() && spec.operands[k] != v)
    ++k;
  if (k == spec.operands.size())
    spec.operands.push_back(v);
  ax.indirect = static_cast<int>(k);
  expectPunct("[");
  if (!consumePunct("]")) {
    do
      ax.indirectAt.push_back(parseAxis(spec, false).pos);
    while (consumePunct(","));
    expectPunct("]");
  }
}

/// d<N> or r<N>: returns the loop variable, with r<N> provisionally
/// numbered from kReductionBase.
int IRParser::loopVar(const Token &w, const Op &spec) {
  char kind = w.text[0];
  std::string digits = w.text.substr(1);
  int64_t n = -1;
  if ((kind == 'd' || kind == 'r') && !digits.empty() &&
      digits.find_first_not_of("0123456789") == std::string::npos && digits.size() < 7)
    n = std::stoll(digits);
  if (n < 0)
    error(w.loc, "expected a loop variable (d0, d1, ... or r0, r1, ...), found '" + w.text + "'");
  if (kind == 'r' && spec.kind != OpKind::Contract)
    error(w.loc, "reduction variable " + w.text + " outside a contract");
  int &maxSeen = kind == 'd' ? maxD_ : maxR_;
  if (n > maxSeen) {
    maxSeen = static_cast<int>(n);
    (kind == 'd' ? maxDLoc_ : maxRLoc_) = w.loc;
  }
  return static_cast<int>(kind == 'd' ? n : kReductionBase + n);
}

/// Checks the loop variables read against the op's loops and numbers them
/// as ir/IndexMap.h does. d<N> are result axes, except in scatter_add, whose
/// loops run over its source's axes; a contract with an output map has only
/// r<N> loops.
void IRParser::resolveLoopVars(Op &spec, int64_t rank) {
  const bool onlyR = spec.kind == OpKind::Contract && !spec.outMap.empty();
  if (onlyR && maxD_ >= 0)
    error(maxDLoc_, "loop variable d" + std::to_string(maxD_) +
                        " in a contract with an output map, whose loops are r0, r1, ...");
  const bool scatter = spec.kind == OpKind::ScatterAdd;
  const int64_t dLoops = scatter ? spec.operands[0]->type.rank() : rank;
  if (maxD_ >= dLoops)
    error(maxDLoc_, "loop variable d" + std::to_string(maxD_) + " out of range for " +
                        (scatter ? "source" : "result") + " rank " + std::to_string(dLoops));
  if (maxR_ >= static_cast<int>(spec.reductionSizes.size()))
    error(maxRLoc_, "reduction variable r" + std::to_string(maxR_) + " out of range: " +
                        std::to_string(spec.reductionSizes.size()) + " reduction sizes given");
  const int rBase = onlyR ? 0 : static_cast<int>(rank);
  auto resolve = [&](Affine &a) {
    Affine r = Affine::constantOf(a.constant);
    for (auto &[v, c] : a.terms)
      r.add(v >= kReductionBase ? rBase + (v - kReductionBase) : v, c);
    a = r;
  };
  auto resolveMap = [&](IndexMap &m) {
    for (AxisIndex &ax : m) {
      resolve(ax.pos);
      for (Affine &a : ax.indirectAt)
        resolve(a);
    }
  };
  for (IndexMap &m : spec.maps)
    resolveMap(m);
  resolveMap(spec.outMap);
}

//===--- Building ---------------------------------------------------------===//

/// Runs verifyOp on the spec with the printed result types, so that what
/// the Builder would assert on is reported as an error in the text.
void IRParser::verifySpec(Op &spec, const std::vector<TensorType> &types,
                          const std::vector<Token> &names, SourceLoc at) {
  std::vector<std::unique_ptr<Value>> temps;
  for (size_t i = 0; i < types.size(); ++i) {
    temps.push_back(std::make_unique<Value>());
    temps.back()->type = types[i];
    temps.back()->name = i < names.size() ? names[i].text : "";
    temps.back()->def = &spec;
    temps.back()->index = static_cast<int>(i);
    spec.results.push_back(temps.back().get());
  }
  std::vector<std::string> errs = verifyOp(spec);
  spec.results.clear();
  for (auto &e : errs)
    diags_.error(at, e);
  if (!errs.empty())
    throw UserError();
}

Op *IRParser::build(const Op &spec, const TensorType &type) {
  const auto &xs = spec.operands;
  switch (spec.opClass()) {
  case OpClass::Leaf:
    if (spec.kind == OpKind::Constant)
      return b_.constant(spec.value, type.shape, type.dtype)->def;
    if (spec.kind == OpKind::Iota)
      return b_.iota(type.shape, spec.axes[0])->def;
    return b_.leaf(spec.kind, spec.name, type, spec.init)->def;
  case OpClass::Unary:
    return (spec.kind == OpKind::PowC ? b_.powc(xs[0], spec.value) : b_.unary(spec.kind, xs[0]))
        ->def;
  case OpClass::Binary:
    return b_.binary(spec.kind, xs[0], xs[1])->def;
  case OpClass::Ternary:
    return b_.where(xs[0], xs[1], xs[2])->def;
  case OpClass::Remap:
    return b_.remap(xs[0], spec.maps[0], type.shape, {xs.begin() + 1, xs.end()}, spec.symbols)->def;
  case OpClass::Scatter:
    return b_.scatterAdd(xs[0], spec.maps[0], type.shape, {xs.begin() + 1, xs.end()}, spec.symbols)
        ->def;
  case OpClass::Contract: {
    Value *r = spec.outMap.empty()
                   ? b_.contract(xs, spec.maps, type.shape, spec.reductionSizes, spec.symbols)
                   : b_.contractInto(xs, spec.maps, spec.outMap, type.shape, spec.reductionSizes,
                                     spec.symbols);
    return r->def;
  }
  case OpClass::Reduce:
    return b_.reduce(spec.kind, xs[0], spec.axes)->def;
  case OpClass::Normalize:
    return b_.normalize(spec.kind, xs[0], spec.axes)->def;
  case OpClass::Yield:
    return b_.yield(xs, spec.yields);
  case OpClass::Recurrence:
    break;
  }
  GRADC_UNREACHABLE("recurrences are built by parseRecurrence");
}

/// recurrence ::= 'steps' '=' INT ('forward'|'reverse')
///     '(' (%V 'axis' '=' SINT 'offset' '=' SINT) (',' ...)* ')'
///     'args' '(' %V (',' %V)* ')' '{' op* '}' (':' type (',' type)*)? loc?
void IRParser::parseRecurrence(Op &spec, const std::vector<Token> &names, SourceLoc start) {
  expectWord("steps");
  expectPunct("=");
  spec.steps = parseInt();
  if (!tok_.isWord("forward") && !tok_.isWord("reverse"))
    errorExpected("'forward' or 'reverse'");
  spec.reverse = take().text == "reverse";
  expectPunct("(");
  if (!consumePunct(")")) {
    do {
      spec.operands.push_back(useValue());
      CarriedInfo c;
      expectWord("axis");
      expectPunct("=");
      // axis=-1 marks a tensor carried whole (no recurrence axis).
      c.axis = consumePunct("-") ? -parseSmallInt() : parseSmallInt();
      expectWord("offset");
      expectPunct("=");
      c.offset = parseSignedInt();
      spec.carried.push_back(c);
    } while (consumePunct(","));
    expectPunct(")");
  }
  expectWord("args");
  expectPunct("(");
  std::vector<Token> argNames;
  do
    argNames.push_back(expect(TokKind::ValueName, "a %value"));
  while (consumePunct(","));
  expectPunct(")");
  size_t n = spec.operands.size();
  if (names.size() != n)
    error(start, "a recurrence with " + std::to_string(n) +
                     " carried tensors has as many "
                     "results, not " +
                     std::to_string(names.size()));
  if (argNames.size() != n + 1)
    error(argNames[0].loc, "the body takes the step variable and " + std::to_string(n) +
                               " carried tensors, not " + std::to_string(argNames.size()) +
                               " arguments");
  std::vector<TensorType> types;
  for (Value *v : spec.operands)
    types.push_back(v->type);
  verifySpec(spec, types, names, start);

  b_.setBackward(spec.backward);
  Op *op = b_.recurrence(spec.operands, spec.carried, spec.steps, spec.reverse);
  std::vector<Value *> all = op->results;
  all.insert(all.end(), op->body->args.begin(), op->body->args.end());
  std::vector<Token> allNames = names;
  allNames.insert(allNames.end(), argNames.begin(), argNames.end());
  bindNames(all, allNames);

  Region *outer = b_.region();
  b_.setRegion(op->body.get());
  scopes_.emplace_back();
  makeVisible(op->body->args);
  expectPunct("{");
  while (!tok_.isPunct("}")) {
    if (tok_.kind == TokKind::Eof)
      errorExpected("'}' at the end of the recurrence body");
    if (!op->body->ops.empty() && op->body->ops.back()->kind == OpKind::Yield)
      error(tok_.loc, "a yield must be the last op of a recurrence body");
    parseStatement(false);
  }
  if (op->body->ops.empty() || op->body->ops.back()->kind != OpKind::Yield)
    error(tok_.loc, "the recurrence body does not end with a yield");
  take();
  popScope();
  b_.setRegion(outer);

  for (size_t i = 0; i < n; ++i) {
    expectPunct(i ? "," : ":");
    SourceLoc at = tok_.loc;
    TensorType t = parseType();
    if (t != op->results[i]->type)
      error(at, "type " + t.str() + " does not match the op's type " + op->results[i]->type.str());
  }
  op->loc = parseOptionalLoc();
  makeVisible(op->results);
}

} // namespace

std::unique_ptr<Graph> parseGraph(std::string_view text, const std::string &bufferName,
                                  SourceManager &sm, DiagnosticEngine &diags) {
  uint32_t file = sm.addFile(bufferName, std::string(text));
  try {
    IRParser p(std::string(text), file, sm, diags);
    return p.parseGraph();
  } catch (const UserError &) {
    return nullptr;
  }
}

} // namespace gradc::ir
