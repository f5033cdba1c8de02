//===- ir/IRLexer.h - Tokens of the IR's text form --------------------------===//
//
// The IR text has few token kinds: words (mnemonics, keywords, loop
// variables d0/r0, dtypes), %values and @graph names (bare or quoted),
// integers, floating-point numbers, string literals and punctuation.
// `//` starts a comment to the end of the line, so golden test files can
// carry RUN and CHECK lines. Only the IR parser uses this.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "support/Diagnostics.h"

#include <string>
#include <string_view>

namespace gradc::ir {

enum class TokKind { Eof, Word, ValueName, GraphName, Integer, Float, String, Punct };

struct Token {
  TokKind kind = TokKind::Eof;
  /// Words, numbers, punctuation: the text; names and strings: the decoded
  /// contents, without sigil or quotes.
  std::string text;
  SourceLoc loc;

  bool is(TokKind k, std::string_view t) const { return kind == k && text == t; }
  bool isPunct(std::string_view t) const { return is(TokKind::Punct, t); }
  bool isWord(std::string_view t) const { return is(TokKind::Word, t); }
};

class IRLexer {
public:
  /// Lexes `text`, which the SourceManager knows as file `file`; errors go
  /// to `diags` and throw UserError.
  IRLexer(std::string text, uint32_t file, DiagnosticEngine &diags)
      : text_(std::move(text)), file_(file), diags_(diags) {}

  Token next();

private:
  char peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  void advance();
  SourceLoc here() const { return {file_, line_, col_}; }
  void skipSpaceAndComments();
  std::string lexQuoted(); ///< at the opening quote; returns the decoded text

  std::string text_;
  uint32_t file_;
  DiagnosticEngine &diags_;
  size_t pos_ = 0;
  uint32_t line_ = 1, col_ = 1;
};

} // namespace gradc::ir
