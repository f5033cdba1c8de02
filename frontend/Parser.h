//===- frontend/Parser.h - Recursive-descent parser of the model language --===//
//
// Builds one ast::Module per source file. Each parse method documents the
// grammar rule it implements. The first syntax error is fatal: it is
// reported at the offending token, then UserError is thrown.
//
// The parser is split by grammar level: Parser.cpp (tokens and the top
// level), ParseStmt.cpp (statements), ParseExpr.cpp (expressions).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/AST.h"
#include "frontend/Lexer.h"

#include <deque>
#include <memory>
#include <string>
#include <string_view>

namespace gradc {

/// Expressions and brackets may nest at most this deep; deeper input is the
/// error "nesting deeper than 256 levels" (never a stack overflow).
inline constexpr unsigned kMaxNestingDepth = 256;

class Parser {
public:
  /// Parses `text` (which must outlive the parser) of source file `file`.
  Parser(std::string_view text, uint32_t file, DiagnosticEngine &diags);

  /// Parses the whole file.
  std::unique_ptr<ast::Module> parseModule();

  /// Parses text that holds exactly one expression (tests, the API).
  ast::ExprPtr parseStandaloneExpr();

private:
  /// Counts nesting levels entered in one parse method and leaves them all
  /// when it goes out of scope.
  class NestingScope {
  public:
    explicit NestingScope(Parser &p) : p_(p) {}
    ~NestingScope() { p_.depth_ -= entered_; }
    NestingScope(const NestingScope &) = delete;
    NestingScope &operator=(const NestingScope &) = delete;
    /// One level deeper, opened by the token at `loc`.
    void enter(SourceLoc loc);

  private:
    Parser &p_;
    unsigned entered_ = 0;
  };

  //===-- Tokens (Parser.cpp) ----------------------------------------------===//
  const Token &peek(size_t ahead = 0);
  Token consume();
  bool accept(TokenKind k);
  /// Consumes a token of kind `k`, or reports "expected WHAT, found X".
  Token expect(TokenKind k, const std::string &what);
  /// Consumes a name (keywords count as names here), or reports an error.
  Token expectName(const std::string &what);
  [[noreturn]] void error(SourceLoc loc, const std::string &msg);
  /// Reports "expected WHAT, found <current token>" at the current token.
  [[noreturn]] void errorExpected(const std::string &what);
  /// Reports the token where a bracketed list or parenthesized expression
  /// should go on or close: "expected an operator, ',' or ')' to close WHAT,
  /// found X", with a hint when X starts an operand (a missing '*', or a
  /// missing closer when X is on a later line).
  [[noreturn]] void errorUnclosed(const char *closer, bool commaAllowed, const std::string &what);
  /// Skips line breaks and ';'.
  void skipSeparators();
  /// Checks that a statement ends here (line break, ';', '}' or end of file)
  /// without consuming the terminator.
  void expectStatementEnd(bool afterExpression);
  /// A name, keyword, number or '(': a token that can begin an operand, so
  /// that finding it after an expression means a missing operator.
  static bool canStartOperand(const Token &t);

  //===-- Top level (Parser.cpp) -------------------------------------------===//
  void parseImport(ast::Module &module);
  std::unique_ptr<ast::ModelDef> parseModel();
  std::unique_ptr<ast::FuncDef> parseDef();
  ast::DefParam parseDefParam();
  std::vector<ast::StmtPtr> parseBlock(const std::string &owner, bool inDef);

  //===-- Statements (ParseStmt.cpp) ---------------------------------------===//
  ast::StmtPtr parseStatement(bool inDef);
  ast::StmtPtr parseDim();
  ast::StmtPtr parseConst();
  ast::StmtPtr parseTensorDecl(ast::TensorRole role);
  ast::StmtPtr parseUpdate();
  ast::StmtPtr parseEquation();
  ast::StmtPtr parseOutput();
  ast::StmtPtr parseMinimize();
  ast::StmtPtr parseMetric();
  ast::StmtPtr parseOptimizer();
  ast::StmtPtr parseClipNorm();
  ast::StmtPtr parseReturn();
  ast::LhsTarget parseLhsTarget();
  std::vector<ast::ForClause> parseForClauses();
  void parseRange(const std::string &var, ast::ExprPtr &lo, ast::ExprPtr &hi);

  //===-- Expressions (ParseExpr.cpp) --------------------------------------===//
  ast::ExprPtr parseExpr();
  ast::ExprPtr parseAdditive();
  ast::ExprPtr parseMultiplicative();
  ast::ExprPtr parseUnary();
  ast::ExprPtr parsePower();
  ast::ExprPtr parsePrimary();
  ast::ExprPtr parseNamed();
  ast::ExprPtr parseListItem(TokenKind closer);
  std::vector<ast::ExprPtr> parseSubscriptList(const Token &open, const std::string &what,
                                               bool allowEmpty);
  std::unique_ptr<ast::CallExpr> parseCallRest(const Token &callee);
  ast::ExprPtr parseBinderRest(const Token &op);
  bool looksLikeBinder();

  Lexer lexer_;
  DiagnosticEngine &diags_;
  uint32_t file_;
  std::deque<Token> ahead_;
  unsigned depth_ = 0;
  uint32_t lastLine_ = 1; ///< line of the last consumed token
};

/// Parses one file's text into a Module (file id `file` of the SourceManager).
std::unique_ptr<ast::Module> parseModule(std::string_view text, uint32_t file,
                                         DiagnosticEngine &diags);

/// "3:7": a location's line and column, for messages about the same file.
std::string lineCol(SourceLoc loc);

} // namespace gradc
