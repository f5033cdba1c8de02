//===- frontend/Parser.cpp - Parser: token stream and top level ------------===//
#include "frontend/Parser.h"

namespace gradc {

using namespace ast;

std::string lineCol(SourceLoc loc) {
  return std::to_string(loc.line) + ":" + std::to_string(loc.col);
}

Parser::Parser(std::string_view text, uint32_t file, DiagnosticEngine &diags)
    : lexer_(text, file, diags), diags_(diags), file_(file) {}

std::unique_ptr<Module> parseModule(std::string_view text, uint32_t file, DiagnosticEngine &diags) {
  Parser parser(text, file, diags);
  return parser.parseModule();
}

//===-- Tokens -------------------------------------------------------------===//

void Parser::NestingScope::enter(SourceLoc loc) {
  if (p_.depth_ >= kMaxNestingDepth)
    p_.error(loc, "nesting deeper than " + std::to_string(kMaxNestingDepth) + " levels");
  ++p_.depth_;
  ++entered_;
}

const Token &Parser::peek(size_t ahead) {
  while (ahead_.size() <= ahead)
    ahead_.push_back(lexer_.next());
  return ahead_[ahead];
}

Token Parser::consume() {
  peek();
  Token t = std::move(ahead_.front());
  ahead_.pop_front();
  lastLine_ = t.loc.line;
  return t;
}

bool Parser::accept(TokenKind k) {
  if (!peek().is(k))
    return false;
  consume();
  return true;
}

Token Parser::expect(TokenKind k, const std::string &what) {
  if (!peek().is(k))
    errorExpected(what);
  return consume();
}

Token Parser::expectName(const std::string &what) {
  if (!peek().isNameLike())
    errorExpected(what);
  return consume();
}

void Parser::error(SourceLoc loc, const std::string &msg) { diags_.fatal(loc, msg); }

void Parser::errorExpected(const std::string &what) {
  error(peek().loc, "expected " + what + ", found " + describeToken(peek()));
}

void Parser::errorUnclosed(const char *closer, bool commaAllowed, const std::string &what) {
  const Token &t = peek();
  std::string close = std::string("'") + closer + "' to close " + what;
  if (!canStartOperand(t))
    errorExpected(close);
  std::string hint = t.loc.line > lastLine_
                         ? " (is a '" + std::string(closer) + "' missing at the end of line " +
                               std::to_string(lastLine_) + "?)"
                         : " (a product is written with '*')";
  error(t.loc, std::string("expected an operator") + (commaAllowed ? ", ',' or " : " or ") + close +
                   ", found " + describeToken(t) + hint);
}

void Parser::skipSeparators() {
  while (peek().is(TokenKind::Newline) || peek().is(TokenKind::Semi))
    consume();
}

bool Parser::canStartOperand(const Token &t) {
  if (t.is(TokenKind::KwFor) || t.is(TokenKind::KwIn))
    return false; // only ever names in odd programs; a clause in the usual ones
  return t.isNameLike() || t.is(TokenKind::Number) || t.is(TokenKind::LParen);
}

void Parser::expectStatementEnd(bool afterExpression) {
  const Token &t = peek();
  if (t.is(TokenKind::Newline) || t.is(TokenKind::Semi) || t.is(TokenKind::RBrace) ||
      t.is(TokenKind::Eof))
    return;
  if (afterExpression && canStartOperand(t))
    error(t.loc, "expected an operator or the end of the statement, found " + describeToken(t) +
                     " (a product is written with '*')");
  errorExpected("the end of the statement (a new line or ';')");
}

//===-- Top level ----------------------------------------------------------===//

// module := (import | model | def | NEWLINE | ';')* EOF
std::unique_ptr<Module> Parser::parseModule() {
  auto module = std::make_unique<Module>();
  module->file = file_;
  for (;;) {
    skipSeparators();
    const Token &t = peek();
    switch (t.kind) {
    case TokenKind::Eof:
      return module;
    case TokenKind::KwImport:
      parseImport(*module);
      break;
    case TokenKind::KwModel:
      module->models.push_back(parseModel());
      break;
    case TokenKind::KwDef:
      module->defs.push_back(parseDef());
      break;
    case TokenKind::RBrace:
      error(t.loc, "'}' does not close any block");
    default:
      errorExpected("'model', 'def' or 'import' (statements belong inside a model { ... })");
    }
  }
}

// import := 'import' STRING
void Parser::parseImport(Module &module) {
  consume(); // 'import'
  Token path = expect(TokenKind::String, "a quoted path after 'import', as in import \"std\"");
  if (path.text.empty())
    error(path.loc, "an import path may not be empty");
  module.imports.push_back({path.text, path.loc});
  expectStatementEnd(false);
}

// model := 'model' NAME '{' block '}'
std::unique_ptr<ModelDef> Parser::parseModel() {
  Token kw = consume(); // 'model'
  auto model = std::make_unique<ModelDef>();
  Token name = expectName("a model name after 'model'");
  model->name = name.text;
  model->loc = kw.loc;
  model->body = parseBlock("the model '" + name.text + "'", false);
  return model;
}

// def := 'def' NAME '(' [param (',' param)*] ')' ('=' expr | '{' block '}')
std::unique_ptr<FuncDef> Parser::parseDef() {
  Token kw = consume(); // 'def'
  auto def = std::make_unique<FuncDef>();
  Token name = expectName("a function name after 'def'");
  def->name = name.text;
  def->loc = kw.loc;
  Token open = expect(TokenKind::LParen, "'(' and the parameters of '" + name.text + "'");
  if (!peek().is(TokenKind::RParen)) {
    do
      def->params.push_back(parseDefParam());
    while (accept(TokenKind::Comma));
  }
  expect(TokenKind::RParen, "',' or ')' to close the parameters of '" + name.text + "' opened at " +
                                lineCol(open.loc));
  if (accept(TokenKind::Assign)) {
    def->exprBody = parseExpr();
    expectStatementEnd(true);
    return def;
  }
  def->body = parseBlock("the def '" + name.text + "'", true);
  return def;
}

// param := 'dim' NAME
//        | NAME ['[' axis (',' axis)* ']'] [':' 'int']
// axis  := NAME | '...'
DefParam Parser::parseDefParam() {
  DefParam param;
  if (peek().is(TokenKind::KwDim) && peek(1).isNameLike()) {
    consume();
    Token name = consume();
    param.kind = ParamKind::Dim;
    param.name = name.text;
    param.loc = name.loc;
    return param;
  }
  Token name = expectName("a parameter name");
  param.name = name.text;
  param.loc = name.loc;
  param.kind = ParamKind::Bare;
  if (peek().is(TokenKind::LBracket)) {
    Token open = consume();
    param.kind = ParamKind::Tensor;
    do {
      if (peek().is(TokenKind::Ellipsis)) {
        Token dots = consume();
        if (!param.axes.empty())
          error(dots.loc, "'...' may only stand for leading axes: write " + name.text + "[..., I]");
        param.axes.push_back({"...", dots.loc});
      } else {
        Token axis = expectName("a size name or '...' in the shape of '" + name.text + "'");
        param.axes.push_back({axis.text, axis.loc});
      }
    } while (accept(TokenKind::Comma));
    expect(TokenKind::RBracket,
           "']' to close the shape of '" + name.text + "' opened at " + lineCol(open.loc));
  }
  if (accept(TokenKind::Colon)) {
    expect(TokenKind::KwInt, "'int' after ':' in the parameter '" + name.text + "'");
    param.kind = ParamKind::Int;
    param.isInt = true;
  }
  return param;
}

// block := '{' (stmt | NEWLINE | ';')* '}'
std::vector<StmtPtr> Parser::parseBlock(const std::string &owner, bool inDef) {
  while (peek().is(TokenKind::Newline))
    consume();
  Token open = expect(TokenKind::LBrace, "'{' to open " + owner);
  std::vector<StmtPtr> body;
  for (;;) {
    skipSeparators();
    if (peek().is(TokenKind::RBrace))
      break;
    if (peek().is(TokenKind::Eof))
      errorExpected("'}' to close " + owner + " opened at " + lineCol(open.loc));
    body.push_back(parseStatement(inDef));
    expectStatementEnd(false);
  }
  consume(); // '}'
  return body;
}

} // namespace gradc
