//===- ir/IRLexer.cpp - Tokens of the IR's text form ------------------------===//
#include "ir/IRLexer.h"

namespace gradc::ir {

namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isWordStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
/// Characters of a bare name: the printer quotes any name with others.
bool isNameChar(char c) { return isWordStart(c) || isDigit(c) || c == '.'; }

int hexValue(char c) {
  if (isDigit(c))
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

} // namespace

void IRLexer::advance() {
  char c = text_[pos_++];
  if (c == '\n') {
    ++line_;
    col_ = 1;
  } else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
    // Columns count characters: a UTF-8 continuation byte adds none.
    ++col_;
  }
}

void IRLexer::skipSpaceAndComments() {
  for (;;) {
    char c = peek();
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      advance();
    } else if (c == '/' && peek(1) == '/') {
      while (pos_ < text_.size() && peek() != '\n')
        advance();
    } else {
      return;
    }
  }
}

std::string IRLexer::lexQuoted() {
  SourceLoc start = here();
  advance(); // the opening quote
  std::string s;
  for (;;) {
    if (pos_ >= text_.size() || peek() == '\n')
      diags_.fatal(start, "unterminated string");
    char c = peek();
    if (c == '"') {
      advance();
      return s;
    }
    if (c != '\\') {
      s += c;
      advance();
      continue;
    }
    SourceLoc escLoc = here();
    advance();
    char e = peek();
    if (e == '"' || e == '\\') {
      s += e;
      advance();
    } else if (e == 'n' || e == 't') {
      s += e == 'n' ? '\n' : '\t';
      advance();
    } else if (e == 'x' && hexValue(peek(1)) >= 0 && hexValue(peek(2)) >= 0) {
      s += static_cast<char>(hexValue(peek(1)) * 16 + hexValue(peek(2)));
      advance();
      advance();
      advance();
    } else {
      diags_.fatal(escLoc, "unknown escape in a string");
    }
  }
}

Token IRLexer::next() {
  skipSpaceAndComments();
  Token t;
  t.loc = here();
  if (pos_ >= text_.size())
    return t;
  char c = peek();
  if (c == '%' || c == '@') {
    t.kind = c == '%' ? TokKind::ValueName : TokKind::GraphName;
    advance();
    if (peek() == '"') {
      t.text = lexQuoted();
    } else {
      while (isNameChar(peek())) {
        t.text += peek();
        advance();
      }
    }
    if (t.text.empty())
      diags_.fatal(t.loc, std::string("expected a name after '") + c + "'");
    return t;
  }
  if (c == '"') {
    t.kind = TokKind::String;
    t.text = lexQuoted();
    return t;
  }
  if (isWordStart(c)) {
    t.kind = TokKind::Word;
    while (isNameChar(peek())) {
      t.text += peek();
      advance();
    }
    return t;
  }
  if (isDigit(c)) {
    // Digits, then an optional fraction and exponent: "12", "0.5", "1e-08".
    t.kind = TokKind::Integer;
    while (isDigit(peek()) || peek() == '.' || peek() == 'e' || peek() == 'E') {
      char d = peek();
      if (!isDigit(d))
        t.kind = TokKind::Float;
      t.text += d;
      advance();
      if ((d == 'e' || d == 'E') && (peek() == '+' || peek() == '-')) {
        t.text += peek();
        advance();
      }
    }
    return t;
  }
  t.kind = TokKind::Punct;
  if (c == '-' && peek(1) == '>') {
    t.text = "->";
    advance();
    advance();
    return t;
  }
  static const std::string kPunct = "=:,[](){}+-*^";
  if (kPunct.find(c) == std::string::npos) {
    if (static_cast<unsigned char>(c) >= 0x80)
      diags_.fatal(t.loc, "unexpected non-ASCII character");
    diags_.fatal(t.loc, "unexpected character '" + std::string(1, c) + "'");
  }
  t.text = std::string(1, c);
  advance();
  return t;
}

} // namespace gradc::ir
