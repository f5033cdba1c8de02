//===- frontend/Lexer.h - Tokenizer of the model language ------------------===//
//
// Turns a file's text into tokens on demand. A line break is a token (it
// ends a statement) except inside ( ) and [ ], where it continues the
// statement. Lexical errors are fatal: reported, then UserError is thrown.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/Token.h"
#include "support/Diagnostics.h"

#include <string_view>

namespace gradc {

/// Reports the first byte of `text` that is not part of valid UTF-8 as
/// "invalid UTF-8 byte 0xNN" at its line and column, and throws UserError.
/// Overlong forms, surrogates and code points above U+10FFFF are invalid.
void checkUtf8(std::string_view text, uint32_t file, DiagnosticEngine &diags);

class Lexer {
public:
  /// Lexes `text` (which must outlive the lexer) of source file `file`.
  /// Checks the whole text with checkUtf8 first; skips a leading UTF-8 BOM.
  Lexer(std::string_view text, uint32_t file, DiagnosticEngine &diags);

  /// Returns the next token; at the end, Eof (again on every later call).
  Token next();

private:
  char peekByte(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  bool atEnd() const { return pos_ >= text_.size(); }
  /// Moves past one byte, keeping line and column up to date.
  void bump();
  SourceLoc here() const { return {file_, line_, col_}; }
  /// Skips blanks and comments; stops at a line break or a token.
  void skipBlanksAndComments();

  Token lexNumber();
  Token lexName();
  Token lexString();
  Token lexPunctuation();
  [[noreturn]] void unexpectedCharacter();

  Token make(TokenKind kind, SourceLoc loc, size_t begin) const;

  std::string_view text_;
  uint32_t file_;
  DiagnosticEngine &diags_;
  size_t pos_ = 0;
  uint32_t line_ = 1;
  uint32_t col_ = 1;
  /// How many ( and [ are open: line breaks inside them are not tokens.
  unsigned bracketDepth_ = 0;
};

} // namespace gradc
