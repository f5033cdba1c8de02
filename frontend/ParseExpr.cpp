//===- frontend/ParseExpr.cpp - Parser: expressions ------------------------===//
//
// Precedence, loosest first: comparisons (non-associative), + -, * /, unary
// -, ^ (right-associative, its exponent may be negated: x^-2), then
// subscripts and calls. Every operator and bracket counts as one nesting
// level, so the tree stays at most kMaxNestingDepth deep and the recursive
// passes over it cannot overflow the stack.
//
//===----------------------------------------------------------------------===//
#include "frontend/Parser.h"

namespace gradc {

using namespace ast;

static bool comparisonOp(TokenKind k, BinaryOp &op) {
  switch (k) {
  case TokenKind::Less:
    op = BinaryOp::Lt;
    return true;
  case TokenKind::LessEq:
    op = BinaryOp::Le;
    return true;
  case TokenKind::Greater:
    op = BinaryOp::Gt;
    return true;
  case TokenKind::GreaterEq:
    op = BinaryOp::Ge;
    return true;
  case TokenKind::EqEq:
    op = BinaryOp::Eq;
    return true;
  case TokenKind::NotEq:
    op = BinaryOp::Ne;
    return true;
  default:
    return false;
  }
}

static ExprPtr makeBinary(BinaryOp op, const Token &opTok, ExprPtr lhs, ExprPtr rhs) {
  auto e = std::make_unique<BinaryExpr>(lhs->loc, op);
  e->opLoc = opTok.loc;
  e->lhs = std::move(lhs);
  e->rhs = std::move(rhs);
  return e;
}

// standalone := separators* expr separators* EOF
ExprPtr Parser::parseStandaloneExpr() {
  skipSeparators();
  ExprPtr e = parseExpr();
  skipSeparators();
  if (!peek().is(TokenKind::Eof)) {
    if (canStartOperand(peek()))
      error(peek().loc, "expected an operator or the end of the expression, found " +
                            describeToken(peek()) + " (a product is written with '*')");
    errorExpected("the end of the expression");
  }
  return e;
}

// expr := additive [('<' | '<=' | '>' | '>=' | '==' | '!=') additive]
ExprPtr Parser::parseExpr() {
  ExprPtr lhs = parseAdditive();
  BinaryOp op;
  if (!comparisonOp(peek().kind, op))
    return lhs;
  NestingScope scope(*this);
  Token opTok = consume();
  scope.enter(opTok.loc);
  ExprPtr rhs = parseAdditive();
  BinaryOp second;
  if (comparisonOp(peek().kind, second))
    error(peek().loc, "comparisons do not chain; write (a < b) * (b < c) or use where");
  return makeBinary(op, opTok, std::move(lhs), std::move(rhs));
}

// additive := multiplicative (('+' | '-') multiplicative)*
ExprPtr Parser::parseAdditive() {
  NestingScope scope(*this);
  ExprPtr lhs = parseMultiplicative();
  while (peek().is(TokenKind::Plus) || peek().is(TokenKind::Minus)) {
    Token opTok = consume();
    scope.enter(opTok.loc);
    ExprPtr rhs = parseMultiplicative();
    BinaryOp op = opTok.is(TokenKind::Plus) ? BinaryOp::Add : BinaryOp::Sub;
    lhs = makeBinary(op, opTok, std::move(lhs), std::move(rhs));
  }
  return lhs;
}

// multiplicative := unary (('*' | '/') unary)*
ExprPtr Parser::parseMultiplicative() {
  NestingScope scope(*this);
  ExprPtr lhs = parseUnary();
  while (peek().is(TokenKind::Star) || peek().is(TokenKind::Slash)) {
    Token opTok = consume();
    scope.enter(opTok.loc);
    ExprPtr rhs = parseUnary();
    BinaryOp op = opTok.is(TokenKind::Star) ? BinaryOp::Mul : BinaryOp::Div;
    lhs = makeBinary(op, opTok, std::move(lhs), std::move(rhs));
  }
  return lhs;
}

// unary := '-' unary | power
ExprPtr Parser::parseUnary() {
  if (!peek().is(TokenKind::Minus))
    return parsePower();
  NestingScope scope(*this);
  Token minus = consume();
  scope.enter(minus.loc);
  auto e = std::make_unique<UnaryExpr>(minus.loc);
  e->operand = parseUnary();
  return e;
}

// power := primary ['^' unary]      (right-associative: a^b^c is a^(b^c))
ExprPtr Parser::parsePower() {
  ExprPtr base = parsePrimary();
  if (!peek().is(TokenKind::Caret))
    return base;
  NestingScope scope(*this);
  Token caret = consume();
  scope.enter(caret.loc);
  ExprPtr exponent = parseUnary();
  return makeBinary(BinaryOp::Pow, caret, std::move(base), std::move(exponent));
}

// primary := NUMBER | named | '(' expr ')'
ExprPtr Parser::parsePrimary() {
  const Token &t = peek();
  if (t.is(TokenKind::Number)) {
    Token num = consume();
    auto e = std::make_unique<NumberExpr>(num.loc);
    e->value = num.number;
    e->isInteger = num.text.find_first_of(".eE") == std::string::npos;
    e->text = num.text;
    return e;
  }
  if (t.isNameLike())
    return parseNamed();
  if (t.is(TokenKind::LParen)) {
    NestingScope scope(*this);
    Token open = consume();
    scope.enter(open.loc);
    ExprPtr inner = parseExpr();
    if (!peek().is(TokenKind::RParen))
      errorUnclosed(")", false, "the '(' opened at " + lineCol(open.loc));
    consume();
    if (peek().is(TokenKind::LBracket))
      error(peek().loc, "only a tensor name can be subscripted; give this value a name first");
    return inner;
  }
  if (t.is(TokenKind::Ellipsis))
    error(t.loc, "'...' must stand alone, as a subscript, a binder variable or a call argument");
  errorExpected("an expression");
}

// named := NAME
//        | NAME '[' item (',' item)* ']'       a subscripted tensor
//        | NAME '(' args ')'                   a call
//        | NAME '(' varlist ':' expr ')'       a binder
ExprPtr Parser::parseNamed() {
  Token name = consume();
  ExprPtr result;
  if (peek().is(TokenKind::LBracket)) {
    Token open = consume();
    NestingScope scope(*this);
    scope.enter(open.loc);
    auto e = std::make_unique<SubscriptExpr>(name.loc, name.text);
    e->subscripts = parseSubscriptList(open, "the subscript of '" + name.text + "'", false);
    if (peek().is(TokenKind::LBracket))
      error(peek().loc, "write all subscripts of '" + name.text +
                            "' in one pair of brackets, separated by commas");
    result = std::move(e);
  } else if (peek().is(TokenKind::LParen)) {
    if (looksLikeBinder())
      result = parseBinderRest(name);
    else
      result = parseCallRest(name);
  } else {
    return std::make_unique<NameExpr>(name.loc, name.text);
  }
  if (peek().is(TokenKind::LBracket))
    error(peek().loc,
          "the result of '" + name.text + "(...)' cannot be subscripted; give it a name first");
  return result;
}

// item := '...' | expr          ('...' only when it stands alone)
ExprPtr Parser::parseListItem(TokenKind closer) {
  if (peek().is(TokenKind::Ellipsis) && (peek(1).is(TokenKind::Comma) || peek(1).is(closer)))
    return std::make_unique<EllipsisExpr>(consume().loc);
  return parseExpr();
}

// items := [item (',' item)*] ']'      (the '[' is already consumed)
std::vector<ExprPtr> Parser::parseSubscriptList(const Token &open, const std::string &what,
                                                bool allowEmpty) {
  std::vector<ExprPtr> items;
  if (peek().is(TokenKind::RBracket)) {
    if (!allowEmpty)
      error(peek().loc, "empty subscript in " + what + "; a scalar is written without brackets");
    consume();
    return items;
  }
  for (;;) {
    items.push_back(parseListItem(TokenKind::RBracket));
    if (accept(TokenKind::Comma))
      continue;
    if (accept(TokenKind::RBracket))
      return items;
    errorUnclosed("]", true, what + " opened at " + lineCol(open.loc));
  }
}

// Decides, by looking past the '(' without consuming, whether it opens a
// binder: a list of `NAME`, `NAME in ...` or `...` items separated by ','
// and followed by ':'. `count(v, w)` and `max(a, b)` are calls.
bool Parser::looksLikeBinder() {
  size_t i = 1; // the token after '('
  for (;;) {
    const Token &t = peek(i);
    if (t.is(TokenKind::Colon))
      return true; // an empty variable list: parseBinderRest reports it
    if (t.isNameLike() && peek(i + 1).is(TokenKind::KwIn))
      return true; // `v in lo..hi` appears only in binders
    if (!t.isNameLike() && !t.is(TokenKind::Ellipsis))
      return false;
    const Token &sep = peek(++i);
    if (sep.is(TokenKind::Colon))
      return true;
    if (!sep.is(TokenKind::Comma))
      return false;
    ++i;
  }
}

// args := [arg (',' arg)*] ')'             (positional before named)
// arg  := NAME '=' expr | item
std::unique_ptr<CallExpr> Parser::parseCallRest(const Token &callee) {
  Token open = consume(); // '('
  NestingScope scope(*this);
  scope.enter(open.loc);
  auto call = std::make_unique<CallExpr>(callee.loc, callee.text);
  std::string closeMsg =
      "')' to close the call of '" + callee.text + "' opened at " + lineCol(open.loc);
  if (accept(TokenKind::RParen))
    return call;
  for (;;) {
    if (peek().isNameLike() && peek(1).is(TokenKind::Assign)) {
      Token key = consume();
      consume(); // '='
      for (const NamedArg &other : call->namedArgs)
        if (other.name == key.text)
          error(key.loc, "the argument '" + key.text + "' is given twice");
      call->namedArgs.push_back({key.text, key.loc, parseExpr()});
    } else {
      const Token &start = peek();
      if (!call->namedArgs.empty())
        error(start.loc, "a positional argument may not follow the named argument '" +
                             call->namedArgs.back().name + "'");
      call->args.push_back(parseListItem(TokenKind::RParen));
    }
    if (accept(TokenKind::Comma))
      continue;
    if (accept(TokenKind::RParen))
      return call;
    if (peek().is(TokenKind::Colon))
      error(peek().loc, "only index variables (names, 'v in lo..hi' or '...') may stand before "
                        "':' in '" +
                            callee.text + "(...)'");
    errorUnclosed(")", true, "the call of '" + callee.text + "' opened at " + lineCol(open.loc));
  }
}

// binder  := NAME '(' varlist ':' expr ')'
// varlist := var (',' var)*
// var     := NAME | NAME 'in' expr '..' expr | '...'
ExprPtr Parser::parseBinderRest(const Token &op) {
  Token open = consume(); // '('
  NestingScope scope(*this);
  scope.enter(open.loc);
  auto binder = std::make_unique<BinderExpr>(op.loc, op.text);
  if (peek().is(TokenKind::Colon))
    error(peek().loc,
          "'" + op.text + "' needs an index variable before ':', as in " + op.text + "(i: ...)");
  do {
    BoundVar var;
    var.loc = peek().loc;
    if (accept(TokenKind::Ellipsis)) {
      var.ellipsis = true;
    } else {
      var.name = expectName("an index variable or '...' in '" + op.text + "(...)'").text;
      if (accept(TokenKind::KwIn))
        parseRange(var.name, var.lo, var.hi);
    }
    binder->vars.push_back(std::move(var));
  } while (accept(TokenKind::Comma));
  expect(TokenKind::Colon, "':' after the index variables of '" + op.text + "'");
  binder->body = parseExpr();
  if (!peek().is(TokenKind::RParen))
    errorUnclosed(")", false, "'" + op.text + "(' opened at " + lineCol(open.loc));
  consume();
  return binder;
}

} // namespace gradc
