//===- ir/IRLexer.h - Tokens of the IR's text form ------------------------===//
//
// The IR text has few token kinds: words (mnemonics, keywords, loop
// variables d0/r0, dtypes), %values and @graph names (bare or quoted),
// integers, floating-point numbers, string literals and punctuation.
// `//` starts a comment to the end of the line, so golden test files can
// carry RUN and CHECK lines. IRTokenReader reads the small things tokens
// spell (numbers, types, locations, initializers); the IR parser builds on
// it. Only the IR parser uses this file.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "support/Diagnostics.h"

#include <string>
#include <string_view>
#include <vector>

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

/// A token stream with one token of lookahead (`tok_`) and readers for the
/// pieces of syntax shared by all ops. Every error is reported at its
/// token and throws UserError.
class IRTokenReader {
public:
  IRTokenReader(std::string text, uint32_t file, SourceManager &sm, DiagnosticEngine &diags)
      : sm_(sm), diags_(diags), lex_(std::move(text), file, diags) {
    tok_ = lex_.next();
  }

protected:
  Token take() {
    Token t = std::move(tok_);
    tok_ = lex_.next();
    return t;
  }
  [[noreturn]] void error(SourceLoc loc, const std::string &msg) { diags_.fatal(loc, msg); }
  /// "expected WHAT, found TOKEN" at the current token.
  [[noreturn]] void errorExpected(const std::string &what);
  bool consumePunct(std::string_view p) { return tok_.isPunct(p) ? (take(), true) : false; }
  bool consumeWord(std::string_view w) { return tok_.isWord(w) ? (take(), true) : false; }
  void expectPunct(std::string_view p);
  void expectWord(std::string_view w);
  Token expect(TokKind k, const char *what);

  int64_t parseInt();
  /// An integer small enough for an int (axis numbers, counts).
  int parseSmallInt();
  int64_t parseSignedInt();
  double parseNumber();
  std::vector<int64_t> parseIntList();
  TensorType parseType();
  /// A `loc(...)` if one follows; its path is registered in `sm_`.
  SourceLoc parseOptionalLoc();
  InitSpec parseInit();

  Token tok_;
  SourceManager &sm_;
  DiagnosticEngine &diags_;

private:
  IRLexer lex_;
};

} // namespace gradc::ir
