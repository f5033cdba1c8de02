//===- frontend/Lexer.cpp - Tokenizer of the model language ----------------===//
#include "frontend/Lexer.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <utility>

namespace gradc {

//===-- Token names --------------------------------------------------------===//

bool isKeyword(TokenKind k) { return k >= TokenKind::KwModel && k <= TokenKind::KwInt; }

std::string tokenKindName(TokenKind k) {
  switch (k) {
  case TokenKind::Eof:
    return "end of file";
  case TokenKind::Newline:
    return "end of line";
  case TokenKind::Number:
    return "a number";
  case TokenKind::Name:
    return "a name";
  case TokenKind::String:
    return "a string";
#define GRADC_TOKEN_NAME(kind, spelling)                                                           \
  case TokenKind::kind:                                                                            \
    return "'" spelling "'";
    GRADC_KEYWORDS(GRADC_TOKEN_NAME)
    GRADC_PUNCTUATION(GRADC_TOKEN_NAME)
#undef GRADC_TOKEN_NAME
  }
  return "a token";
}

std::string describeToken(const Token &t) {
  switch (t.kind) {
  case TokenKind::Eof:
  case TokenKind::Newline:
    return tokenKindName(t.kind);
  case TokenKind::String:
    return "'\"" + t.text + "\"'";
  default:
    return "'" + t.text + "'";
  }
}

//===-- UTF-8 --------------------------------------------------------------===//

/// The length of the valid UTF-8 sequence that starts at s[i], or 0.
static size_t utf8Length(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80)
    return 1;
  size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF; // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0)
      lo = 0xA0; // no overlong forms
    if (c == 0xED)
      hi = 0x9F; // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0)
      lo = 0x90; // no overlong forms
    if (c == 0xF4)
      hi = 0x8F; // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (i + n > s.size())
    return 0;
  unsigned char second = static_cast<unsigned char>(s[i + 1]);
  if (second < lo || second > hi)
    return 0;
  for (size_t k = 2; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80)
      return 0;
  return n;
}

/// Decodes the (valid) UTF-8 sequence at s[i].
static char32_t decodeUtf8(std::string_view s, size_t i) {
  size_t n = utf8Length(s, i);
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (n <= 1)
    return c;
  char32_t cp = c & (0x7F >> n);
  for (size_t k = 1; k < n; ++k)
    cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  return cp;
}

void checkUtf8(std::string_view text, uint32_t file, DiagnosticEngine &diags) {
  uint32_t line = 1, col = 1;
  for (size_t i = 0; i < text.size();) {
    size_t n = utf8Length(text, i);
    if (n == 0) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "0x%02X", static_cast<unsigned char>(text[i]));
      diags.fatal({file, line, col}, std::string("invalid UTF-8 byte ") + buf);
    }
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
    i += n;
  }
}

//===-- Lexer --------------------------------------------------------------===//

static bool isDigit(char c) { return c >= '0' && c <= '9'; }
static bool isNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static bool isNameChar(char c) { return isNameStart(c) || isDigit(c); }

Lexer::Lexer(std::string_view text, uint32_t file, DiagnosticEngine &diags)
    : text_(text), file_(file), diags_(diags) {
  checkUtf8(text_, file_, diags_);
  if (text_.substr(0, 3) == "\xEF\xBB\xBF")
    pos_ = 3; // a BOM is not a character of line 1
}

void Lexer::bump() {
  unsigned char c = static_cast<unsigned char>(text_[pos_++]);
  if (c == '\n') {
    ++line_;
    col_ = 1;
  } else if ((c & 0xC0) != 0x80) { // continuation bytes share their lead's column
    ++col_;
  }
}

void Lexer::skipBlanksAndComments() {
  while (!atEnd()) {
    char c = peekByte();
    if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
      bump();
    } else if (c == '#') {
      while (!atEnd() && peekByte() != '\n')
        bump();
    } else {
      return;
    }
  }
}

Token Lexer::make(TokenKind kind, SourceLoc loc, size_t begin) const {
  Token t;
  t.kind = kind;
  t.loc = loc;
  t.text = std::string(text_.substr(begin, pos_ - begin));
  return t;
}

Token Lexer::next() {
  for (;;) {
    skipBlanksAndComments();
    if (atEnd())
      return make(TokenKind::Eof, here(), pos_);
    char c = peekByte();
    if (c == '\n') {
      SourceLoc loc = here();
      bump();
      if (bracketDepth_ == 0)
        return make(TokenKind::Newline, loc, pos_);
      continue; // inside ( ) or [ ] a line break continues the statement
    }
    if (isDigit(c))
      return lexNumber();
    if (isNameStart(c))
      return lexName();
    if (c == '"')
      return lexString();
    return lexPunctuation();
  }
}

/// For a number too large or too small for a double: whether it is too
/// small (it rounds to 0) rather than too large. Compares the decimal
/// exponent of its first significant digit with 0.
static bool roundsToZero(std::string_view text) {
  size_t i = 0;
  long intDigits = 0, fracZeros = 0; // significant integer digits; zeros after '.'
  for (; i < text.size() && isDigit(text[i]); ++i)
    if (intDigits > 0 || text[i] != '0')
      ++intDigits;
  if (i < text.size() && text[i] == '.') {
    bool significant = false;
    for (++i; i < text.size() && isDigit(text[i]); ++i) {
      significant |= text[i] != '0';
      fracZeros += !significant;
    }
  }
  long exp = 0;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool negative = i < text.size() && text[i] == '-';
    if (i < text.size() && (text[i] == '-' || text[i] == '+'))
      ++i;
    for (; i < text.size() && isDigit(text[i]); ++i)
      exp = std::min(exp * 10 + (text[i] - '0'), 1000000L);
    if (negative)
      exp = -exp;
  }
  long leadExp = intDigits > 0 ? intDigits - 1 : -(fracZeros + 1);
  return leadExp + exp < 0;
}

// number := digits ('.' digits)? ([eE] [+-]? digits)?
Token Lexer::lexNumber() {
  SourceLoc loc = here();
  size_t begin = pos_;
  while (isDigit(peekByte()))
    bump();
  if (peekByte() == '.' && peekByte(1) != '.') { // `0..N` is a range
    if (!isDigit(peekByte(1))) {
      std::string digits(text_.substr(begin, pos_ - begin));
      diags_.fatal(loc, "numbers may not end with '.': write " + digits + ".0");
    }
    bump();
    while (isDigit(peekByte()))
      bump();
  }
  if (peekByte() == 'e' || peekByte() == 'E') {
    bool sign = peekByte(1) == '+' || peekByte(1) == '-';
    if (!isDigit(peekByte(sign ? 2 : 1))) {
      std::string written(text_.substr(begin, pos_ - begin + 1));
      diags_.fatal(loc, "expected digits after the exponent in '" + written + "'");
    }
    bump();
    if (sign)
      bump();
    while (isDigit(peekByte()))
      bump();
  }
  std::string number(text_.substr(begin, pos_ - begin));
  if (isNameChar(peekByte())) {
    size_t end = pos_;
    while (end < text_.size() && isNameChar(text_[end]))
      ++end;
    std::string name(text_.substr(pos_, end - pos_));
    diags_.fatal(loc, "'" + number + name + "' is not a number; write " + number + "*" + name +
                          " for a product");
  }
  if (peekByte() == '.' && peekByte(1) != '.')
    diags_.fatal(here(), "unexpected '.' after the number '" + number + "'");
  Token t = make(TokenKind::Number, loc, begin);
  auto [ptr, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), t.number);
  if (ec == std::errc::result_out_of_range) {
    if (!roundsToZero(t.text))
      diags_.fatal(loc, "the number '" + t.text + "' is too large");
    t.number = 0;
  }
  return t;
}

Token Lexer::lexName() {
  SourceLoc loc = here();
  size_t begin = pos_;
  while (isNameChar(peekByte()))
    bump();
  std::string_view word = text_.substr(begin, pos_ - begin);
  static const std::pair<std::string_view, TokenKind> keywords[] = {
#define GRADC_KEYWORD_ENTRY(kind, spelling) {spelling, TokenKind::kind},
      GRADC_KEYWORDS(GRADC_KEYWORD_ENTRY)
#undef GRADC_KEYWORD_ENTRY
  };
  for (const auto &[spelling, kind] : keywords)
    if (word == spelling)
      return make(kind, loc, begin);
  return make(TokenKind::Name, loc, begin);
}

Token Lexer::lexString() {
  SourceLoc loc = here();
  bump(); // the opening quote
  size_t begin = pos_;
  while (!atEnd() && peekByte() != '"' && peekByte() != '\n')
    bump();
  if (peekByte() != '"')
    diags_.fatal(loc, "unterminated string: it must end with '\"' on the line where it starts");
  Token t = make(TokenKind::String, loc, begin);
  bump(); // the closing quote
  return t;
}

Token Lexer::lexPunctuation() {
  SourceLoc loc = here();
  size_t begin = pos_;
  char c = peekByte();
  char c1 = peekByte(1);
  auto take = [&](TokenKind kind, int bytes) {
    for (int i = 0; i < bytes; ++i)
      bump();
    return make(kind, loc, begin);
  };
  switch (c) {
  case '+':
    return take(TokenKind::Plus, 1);
  case '-':
    return c1 == '>' ? take(TokenKind::Arrow, 2) : take(TokenKind::Minus, 1);
  case '*':
    return take(TokenKind::Star, 1);
  case '/':
    return take(TokenKind::Slash, 1);
  case '^':
    return take(TokenKind::Caret, 1);
  case '<':
    return c1 == '=' ? take(TokenKind::LessEq, 2) : take(TokenKind::Less, 1);
  case '>':
    return c1 == '=' ? take(TokenKind::GreaterEq, 2) : take(TokenKind::Greater, 1);
  case '=':
    return c1 == '=' ? take(TokenKind::EqEq, 2) : take(TokenKind::Assign, 1);
  case '!':
    if (c1 == '=')
      return take(TokenKind::NotEq, 2);
    diags_.fatal(loc, "unexpected character '!' (not-equal is written '!=')");
  case ',':
    return take(TokenKind::Comma, 1);
  case ':':
    return take(TokenKind::Colon, 1);
  case ';':
    return take(TokenKind::Semi, 1);
  case '(':
  case '[':
    ++bracketDepth_;
    return take(c == '(' ? TokenKind::LParen : TokenKind::LBracket, 1);
  case ')':
  case ']':
    if (bracketDepth_ > 0)
      --bracketDepth_;
    return take(c == ')' ? TokenKind::RParen : TokenKind::RBracket, 1);
  case '{':
    return take(TokenKind::LBrace, 1);
  case '}':
    return take(TokenKind::RBrace, 1);
  case '.':
    if (c1 == '.')
      return peekByte(2) == '.' ? take(TokenKind::Ellipsis, 3) : take(TokenKind::DotDot, 2);
    if (isDigit(c1)) {
      size_t end = pos_ + 1;
      while (end < text_.size() && isDigit(text_[end]))
        ++end;
      diags_.fatal(loc, "numbers may not start with '.': write 0" +
                            std::string(text_.substr(pos_, end - pos_)));
    }
    diags_.fatal(loc, "unexpected character '.' (a range is written lo..hi)");
  default:
    unexpectedCharacter();
  }
}

void Lexer::unexpectedCharacter() {
  char32_t cp = decodeUtf8(text_, pos_);
  static const std::pair<char32_t, const char *> hints[] = {
      {U'\u2212', "-"},   {U'\u2013', "-"},   {U'\u00D7', "*"},  {U'\u00B7', "*"},
      {U'\u22C5', "*"},   {U'\u00F7', "/"},   {U'\u2264', "<="}, {U'\u2265', ">="},
      {U'\u2260', "!="},  {U'\u2026', "..."}, {U'\u201C', "\""}, {U'\u201D', "\""},
      {U'\u2211', "sum"},
  };
  char code[16];
  std::snprintf(code, sizeof code, "U+%04X", static_cast<unsigned>(cp));
  std::string msg = "unexpected character ";
  if (cp < 0x20 || cp == 0x7F) {
    msg += code;
  } else {
    msg += "'" + std::string(text_.substr(pos_, utf8Length(text_, pos_))) + "'";
    if (cp >= 0x80)
      msg += std::string(" (") + code + ")";
  }
  for (const auto &[from, to] : hints)
    if (cp == from)
      msg += std::string("; write '") + to + "'";
  diags_.fatal(here(), msg);
}

} // namespace gradc
