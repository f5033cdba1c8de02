//===- frontend/Token.h - Tokens of the model language ---------------------===//
//
// The lexer's output. Every token knows where it starts (line and column
// from 1, columns in code points) and its text as written.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "support/SourceManager.h"

#include <cstdint>
#include <string>

namespace gradc {

// Keywords, written once: X(kind, spelling).
#define GRADC_KEYWORDS(X)                                                                          \
  X(KwModel, "model")                                                                              \
  X(KwDef, "def")                                                                                  \
  X(KwDim, "dim")                                                                                  \
  X(KwConst, "const")                                                                              \
  X(KwInput, "input")                                                                              \
  X(KwParam, "param")                                                                              \
  X(KwNoise, "noise")                                                                              \
  X(KwState, "state")                                                                              \
  X(KwUpdate, "update")                                                                            \
  X(KwOutput, "output")                                                                            \
  X(KwMinimize, "minimize")                                                                        \
  X(KwMetric, "metric")                                                                            \
  X(KwOptimizer, "optimizer")                                                                      \
  X(KwClipNorm, "clip_norm")                                                                       \
  X(KwReturn, "return")                                                                            \
  X(KwImport, "import")                                                                            \
  X(KwFor, "for")                                                                                  \
  X(KwIn, "in")                                                                                    \
  X(KwInt, "int")

// Punctuation and operators, written once: X(kind, spelling).
#define GRADC_PUNCTUATION(X)                                                                       \
  X(Plus, "+")                                                                                     \
  X(Minus, "-")                                                                                    \
  X(Star, "*")                                                                                     \
  X(Slash, "/")                                                                                    \
  X(Caret, "^")                                                                                    \
  X(Less, "<")                                                                                     \
  X(LessEq, "<=")                                                                                  \
  X(Greater, ">")                                                                                  \
  X(GreaterEq, ">=")                                                                               \
  X(EqEq, "==")                                                                                    \
  X(NotEq, "!=")                                                                                   \
  X(Assign, "=")                                                                                   \
  X(Comma, ",")                                                                                    \
  X(Colon, ":")                                                                                    \
  X(Semi, ";")                                                                                     \
  X(LParen, "(")                                                                                   \
  X(RParen, ")")                                                                                   \
  X(LBracket, "[")                                                                                 \
  X(RBracket, "]")                                                                                 \
  X(LBrace, "{")                                                                                   \
  X(RBrace, "}")                                                                                   \
  X(DotDot, "..")                                                                                  \
  X(Ellipsis, "...")                                                                               \
  X(Arrow, "->")

enum class TokenKind : uint8_t {
  Eof,     ///< end of the file
  Newline, ///< a line break outside ( ) and [ ]: ends a statement
  Number,  ///< 3, 0.5, 1e-5
  Name,    ///< [A-Za-z_][A-Za-z0-9_]* that is not a keyword
  String,  ///< "path" (import paths only); text holds the contents
#define GRADC_TOKEN_ENUM(kind, spelling) kind,
  GRADC_KEYWORDS(GRADC_TOKEN_ENUM) GRADC_PUNCTUATION(GRADC_TOKEN_ENUM)
#undef GRADC_TOKEN_ENUM
};

/// True for the keyword kinds (model, def, dim, ..., int).
bool isKeyword(TokenKind k);

/// How a kind is named in a message: "'('", "'dim'", "a number", "end of line".
std::string tokenKindName(TokenKind k);

struct Token {
  TokenKind kind = TokenKind::Eof;
  SourceLoc loc;
  /// The text as written (for strings: without the quotes; empty for Eof
  /// and Newline).
  std::string text;
  /// The value of a Number token.
  double number = 0;

  bool is(TokenKind k) const { return kind == k; }
  /// A name, or a keyword where a name is expected (keywords are contextual).
  bool isNameLike() const { return kind == TokenKind::Name || isKeyword(kind); }
};

/// How a token is named in a message: "'foo'", "'('", "end of line".
std::string describeToken(const Token &t);

} // namespace gradc
