//===- frontend/ParseStmt.cpp - Parser: statements of model and def bodies -===//
//
// Keywords are contextual: a statement keyword followed by '=', '[' or ','
// starts an equation defining a tensor of that name (`output = ...`), and
// wherever a name is expected a keyword is taken as one.
//
//===----------------------------------------------------------------------===//
#include "frontend/Parser.h"

#include <algorithm>

namespace gradc {

using namespace ast;

/// The edit distance between two short words (for "did you mean").
static size_t editDistance(const std::string &a, const std::string &b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j)
    row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = up;
    }
  }
  return row[b.size()];
}

/// The statement keyword that `word` is probably a misspelling of, or "".
static std::string suggestKeyword(const std::string &word) {
  static const char *const keywords[] = {"dim",    "const",    "input",     "param",
                                         "noise",  "state",    "update",    "output",
                                         "metric", "minimize", "optimizer", "clip_norm"};
  if (word.size() > 20)
    return "";
  for (const char *k : keywords)
    if (editDistance(word, k) <= std::min<size_t>(2, word.size() / 3 + 1))
      return k;
  return "";
}

// stmt := dim | const | decl | update | equation | output | minimize
//       | metric | optimizer | clip_norm | return
StmtPtr Parser::parseStatement(bool inDef) {
  const Token &t = peek();
  TokenKind next = peek(1).kind;
  bool startsEquation =
      next == TokenKind::Assign || next == TokenKind::LBracket || next == TokenKind::Comma;
  if (!isKeyword(t.kind) || startsEquation) {
    if (!t.isNameLike())
      errorExpected("a statement");
    return parseEquation();
  }
  auto modelOnly = [&]() {
    if (inDef)
      error(t.loc, "'" + t.text + "' is not allowed in a def body, only in a model");
  };
  switch (t.kind) {
  case TokenKind::KwDim:
    return parseDim();
  case TokenKind::KwConst:
    return parseConst();
  case TokenKind::KwInput:
    modelOnly();
    return parseTensorDecl(TensorRole::Input);
  case TokenKind::KwParam:
    return parseTensorDecl(TensorRole::Param);
  case TokenKind::KwNoise:
    return parseTensorDecl(TensorRole::Noise);
  case TokenKind::KwState:
    return parseTensorDecl(TensorRole::State);
  case TokenKind::KwUpdate:
    return parseUpdate();
  case TokenKind::KwOutput:
    modelOnly();
    return parseOutput();
  case TokenKind::KwMinimize:
    modelOnly();
    return parseMinimize();
  case TokenKind::KwMetric:
    modelOnly();
    return parseMetric();
  case TokenKind::KwOptimizer:
    modelOnly();
    return parseOptimizer();
  case TokenKind::KwClipNorm:
    modelOnly();
    return parseClipNorm();
  case TokenKind::KwReturn:
    if (!inDef)
      error(t.loc, "'return' is only allowed in a def body");
    return parseReturn();
  case TokenKind::KwModel:
  case TokenKind::KwDef:
  case TokenKind::KwImport:
    error(t.loc, "'" + t.text + "' must be at the top level of a file (is a '}' missing above?)");
  case TokenKind::KwFor:
    error(t.loc, "a 'for' clause goes at the end of an equation, on the same line");
  default:
    errorExpected("a statement");
  }
}

// dim := 'dim' NAME '=' expr (',' NAME '=' expr)*
StmtPtr Parser::parseDim() {
  auto stmt = std::make_unique<DimStmt>(consume().loc);
  do {
    Token name = expectName("a size name after 'dim'");
    expect(TokenKind::Assign,
           "'=' and a size after 'dim " + name.text + "', as in dim " + name.text + " = 8");
    stmt->dims.push_back({name.text, name.loc, parseExpr()});
  } while (accept(TokenKind::Comma));
  expectStatementEnd(true);
  return stmt;
}

// const := 'const' NAME '=' expr
StmtPtr Parser::parseConst() {
  auto stmt = std::make_unique<ConstStmt>(consume().loc);
  Token name = expectName("a name after 'const'");
  stmt->name = name.text;
  stmt->nameLoc = name.loc;
  expect(TokenKind::Assign, "'=' and a value after 'const " + name.text + "'");
  stmt->value = parseExpr();
  expectStatementEnd(true);
  return stmt;
}

// decl := ('input' | 'param' | 'noise' | 'state') NAME
//         ['[' [item (',' item)*] ']'] [':' ('int' | 'f32')] ['=' expr]
StmtPtr Parser::parseTensorDecl(TensorRole role) {
  Token kw = consume();
  auto stmt = std::make_unique<TensorStmt>(kw.loc, role);
  Token name = expectName("a tensor name after '" + kw.text + "'");
  stmt->name = name.text;
  stmt->nameLoc = name.loc;
  if (peek().is(TokenKind::LBracket)) {
    NestingScope scope(*this);
    Token open = consume();
    scope.enter(open.loc);
    stmt->hasShape = true;
    stmt->shape = parseSubscriptList(open, "the shape of '" + name.text + "'", true);
  }
  if (accept(TokenKind::Colon)) {
    if (peek().is(TokenKind::KwInt))
      stmt->isInt = true;
    else if (!(peek().is(TokenKind::Name) && peek().text == "f32"))
      errorExpected("'int' or 'f32' after ':'");
    consume();
  }
  if (peek().is(TokenKind::Assign)) {
    if (role == TensorRole::Input)
      error(peek().loc, "an input has no initializer: its values are given on every call");
    consume();
    stmt->init = parseExpr();
    if (!stmt->init->as<CallExpr>())
      error(stmt->init->loc, "an initializer is a call such as zeros(), he() or normal(0.01)");
  }
  expectStatementEnd(false);
  return stmt;
}

// update := 'update' target '=' expr [fors]
StmtPtr Parser::parseUpdate() {
  auto stmt = std::make_unique<UpdateStmt>(consume().loc);
  stmt->target = parseLhsTarget();
  expect(TokenKind::Assign, "'=' after the left side of the update");
  stmt->rhs = parseExpr();
  stmt->fors = parseForClauses();
  expectStatementEnd(true);
  return stmt;
}

// equation := target (',' target)* '=' expr [fors]
StmtPtr Parser::parseEquation() {
  auto stmt = std::make_unique<EquationStmt>(peek().loc);
  stmt->lhs.push_back(parseLhsTarget());
  const LhsTarget &first = stmt->lhs.front();
  if (!first.hasSubscripts && peek().isNameLike()) {
    std::string keyword = suggestKeyword(first.name);
    if (!keyword.empty())
      error(first.loc,
            "'" + first.name + "' is not a statement keyword; did you mean '" + keyword + "'?");
    error(first.loc,
          "'" + first.name + "' is not a statement keyword; an equation is written NAME = ...");
  }
  while (accept(TokenKind::Comma))
    stmt->lhs.push_back(parseLhsTarget());
  expect(TokenKind::Assign, "'=' after the left side of the equation");
  stmt->rhs = parseExpr();
  stmt->fors = parseForClauses();
  expectStatementEnd(true);
  return stmt;
}

// target := NAME ['[' item (',' item)* ']']
LhsTarget Parser::parseLhsTarget() {
  Token name = expectName("the name of the tensor being defined");
  LhsTarget target;
  target.name = name.text;
  target.loc = name.loc;
  if (peek().is(TokenKind::LBracket)) {
    NestingScope scope(*this);
    Token open = consume();
    scope.enter(open.loc);
    target.hasSubscripts = true;
    target.subscripts = parseSubscriptList(open, "the subscript of '" + name.text + "'", false);
  }
  return target;
}

// fors := 'for' NAME 'in' expr '..' expr (',' NAME 'in' expr '..' expr)*
std::vector<ForClause> Parser::parseForClauses() {
  std::vector<ForClause> fors;
  if (!accept(TokenKind::KwFor))
    return fors;
  do {
    Token var = expectName("an index variable after 'for'");
    expect(TokenKind::KwIn, "'in' after '" + var.text + "', as in for " + var.text + " in 0..N");
    ForClause clause;
    clause.var = var.text;
    clause.loc = var.loc;
    parseRange(var.text, clause.lo, clause.hi);
    fors.push_back(std::move(clause));
  } while (accept(TokenKind::Comma));
  return fors;
}

// range := expr '..' expr
void Parser::parseRange(const std::string &var, ExprPtr &lo, ExprPtr &hi) {
  lo = parseExpr();
  expect(TokenKind::DotDot, "'..' in the range of '" + var + "' (a range is written 0..N)");
  hi = parseExpr();
}

// output := 'output' NAME (',' NAME)*
StmtPtr Parser::parseOutput() {
  auto stmt = std::make_unique<OutputStmt>(consume().loc);
  do {
    Token name = expectName("a tensor name after 'output'");
    stmt->names.push_back({name.text, name.loc});
  } while (accept(TokenKind::Comma));
  expectStatementEnd(false);
  return stmt;
}

// minimize := 'minimize' NAME
StmtPtr Parser::parseMinimize() {
  auto stmt = std::make_unique<MinimizeStmt>(consume().loc);
  Token name = expectName("the name of a scalar after 'minimize'");
  stmt->target = {name.text, name.loc};
  const Token &t = peek();
  if (!t.is(TokenKind::Newline) && !t.is(TokenKind::Semi) && !t.is(TokenKind::RBrace) &&
      !t.is(TokenKind::Eof))
    error(t.loc, "'minimize' takes one name: write 'loss = ...' and then 'minimize loss'");
  return stmt;
}

// metric := 'metric' NAME '=' expr
StmtPtr Parser::parseMetric() {
  auto stmt = std::make_unique<MetricStmt>(consume().loc);
  Token name = expectName("a name after 'metric'");
  stmt->name = name.text;
  stmt->nameLoc = name.loc;
  expect(TokenKind::Assign, "'=' after 'metric " + name.text + "'");
  stmt->rhs = parseExpr();
  expectStatementEnd(true);
  return stmt;
}

// optimizer := 'optimizer' NAME '(' args ')'
StmtPtr Parser::parseOptimizer() {
  auto stmt = std::make_unique<OptimizerStmt>(consume().loc);
  Token name = expectName("an optimizer after 'optimizer', as in adam(lr = 1e-3)");
  if (!peek().is(TokenKind::LParen))
    errorExpected("'(' after '" + name.text + "', as in " + name.text + "(lr = 1e-3)");
  stmt->call = parseCallRest(name);
  expectStatementEnd(false);
  return stmt;
}

// clip_norm := 'clip_norm' expr
StmtPtr Parser::parseClipNorm() {
  auto stmt = std::make_unique<ClipNormStmt>(consume().loc);
  stmt->value = parseExpr();
  expectStatementEnd(true);
  return stmt;
}

// return := 'return' item (',' item)*
// item   := expr ['->' '[' axis (',' axis)* ']']
// axis   := NAME | '...'
StmtPtr Parser::parseReturn() {
  auto stmt = std::make_unique<ReturnStmt>(consume().loc);
  do {
    ReturnItem item;
    item.value = parseExpr();
    if (peek().is(TokenKind::Arrow)) {
      consume();
      Token open = expect(TokenKind::LBracket, "'[' and the result's axes after '->'");
      item.hasAxes = true;
      do {
        if (peek().is(TokenKind::Ellipsis)) {
          item.axes.push_back(std::make_unique<EllipsisExpr>(consume().loc));
        } else {
          Token axis = expectName("an index variable or '...' as an axis of the result");
          item.axes.push_back(std::make_unique<NameExpr>(axis.loc, axis.text));
        }
      } while (accept(TokenKind::Comma));
      expect(TokenKind::RBracket,
             "',' or ']' to close the result's axes opened at " + lineCol(open.loc));
    }
    stmt->items.push_back(std::move(item));
  } while (accept(TokenKind::Comma));
  expectStatementEnd(true);
  return stmt;
}

} // namespace gradc
