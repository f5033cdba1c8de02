//===- ir/IRLexer.cpp - Tokens of the IR's text form ----------------------===//
#include "ir/IRLexer.h"

#include <charconv>
#include <cstdlib>
#include <limits>

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

//===--- IRTokenReader ----------------------------------------------------===//

void IRTokenReader::errorExpected(const std::string &what) {
  std::string found = tok_.kind == TokKind::Eof         ? "the end of the input"
                      : tok_.kind == TokKind::ValueName ? "%" + tok_.text
                      : tok_.kind == TokKind::String    ? "a string"
                                                        : "'" + tok_.text + "'";
  error(tok_.loc, "expected " + what + ", found " + found);
}

void IRTokenReader::expectPunct(std::string_view p) {
  if (!consumePunct(p))
    errorExpected("'" + std::string(p) + "'");
}

void IRTokenReader::expectWord(std::string_view w) {
  if (!consumeWord(w))
    errorExpected("'" + std::string(w) + "'");
}

Token IRTokenReader::expect(TokKind k, const char *what) {
  if (tok_.kind != k)
    errorExpected(what);
  return take();
}

int64_t IRTokenReader::parseInt() {
  Token t = expect(TokKind::Integer, "an integer");
  int64_t v = 0;
  auto [end, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), v);
  if (ec != std::errc() || end != t.text.data() + t.text.size())
    error(t.loc, "integer '" + t.text + "' out of range");
  return v;
}

int IRTokenReader::parseSmallInt() {
  SourceLoc at = tok_.loc;
  int64_t v = parseInt();
  if (v > (1 << 30))
    error(at, "integer " + std::to_string(v) + " too large here");
  return static_cast<int>(v);
}

int64_t IRTokenReader::parseSignedInt() { return consumePunct("-") ? -parseInt() : parseInt(); }

/// NUMBER ::= '-'? (INT | FLOAT | 'inf' | 'nan')
double IRTokenReader::parseNumber() {
  double sign = consumePunct("-") ? -1.0 : 1.0;
  if (consumeWord("inf"))
    return sign * std::numeric_limits<double>::infinity();
  if (consumeWord("nan"))
    return std::numeric_limits<double>::quiet_NaN();
  if (tok_.kind != TokKind::Integer && tok_.kind != TokKind::Float)
    errorExpected("a number");
  Token t = take();
  char *end = nullptr;
  double v = std::strtod(t.text.c_str(), &end);
  if (end != t.text.c_str() + t.text.size())
    error(t.loc, "malformed number '" + t.text + "'");
  return sign * v;
}

/// ints ::= '[' (INT (',' INT)*)? ']'
std::vector<int64_t> IRTokenReader::parseIntList() {
  std::vector<int64_t> xs;
  expectPunct("[");
  if (consumePunct("]"))
    return xs;
  do
    xs.push_back(parseInt());
  while (consumePunct(","));
  expectPunct("]");
  return xs;
}

/// type ::= ('f32'|'i32') ints | 'index'
TensorType IRTokenReader::parseType() {
  if (consumeWord("index"))
    return TensorType::index();
  if (!tok_.isWord("f32") && !tok_.isWord("i32"))
    errorExpected("a type");
  DType dt = take().text == "f32" ? DType::F32 : DType::I32;
  return TensorType{dt, parseIntList()};
}

/// loc ::= 'loc' '(' STRING ':' INT ':' INT ')'
SourceLoc IRTokenReader::parseOptionalLoc() {
  if (!consumeWord("loc"))
    return {};
  expectPunct("(");
  Token path = expect(TokKind::String, "a file path");
  expectPunct(":");
  SourceLoc at = tok_.loc;
  int64_t line = parseInt();
  expectPunct(":");
  int64_t col = parseInt();
  expectPunct(")");
  if (line < 1 || col < 1 || line > std::numeric_limits<uint32_t>::max() ||
      col > std::numeric_limits<uint32_t>::max())
    error(at, "line and column must be positive");
  uint32_t file = sm_.find(path.text);
  if (!file)
    file = sm_.addFile(path.text, "");
  return {file, static_cast<uint32_t>(line), static_cast<uint32_t>(col)};
}

/// init ::= WORD '(' arguments ')', as InitSpec::Kind spells them
InitSpec IRTokenReader::parseInit() {
  Token w = expect(TokKind::Word, "an initializer");
  InitSpec s;
  expectPunct("(");
  if (w.text == "zeros" || w.text == "ones") {
    s.kind = w.text == "zeros" ? InitSpec::Zeros : InitSpec::Ones;
  } else if (w.text == "constant" || w.text == "normal") {
    s.kind = w.text == "constant" ? InitSpec::Constant : InitSpec::Normal;
    s.a = parseNumber();
  } else if (w.text == "uniform") {
    s.kind = InitSpec::Uniform;
    s.a = parseNumber();
    expectPunct(",");
    s.b = parseNumber();
  } else if (w.text == "he" || w.text == "lecun" || w.text == "xavier") {
    s.kind = w.text == "he" ? InitSpec::He : w.text == "lecun" ? InitSpec::Lecun : InitSpec::Xavier;
    expectWord("fan_in");
    expectPunct("=");
    s.fanIn = parseInt();
    if (s.kind == InitSpec::Xavier) {
      expectPunct(",");
      expectWord("fan_out");
      expectPunct("=");
      s.fanOut = parseInt();
    }
  } else {
    error(w.loc, "unknown initializer '" + w.text + "'");
  }
  expectPunct(")");
  return s;
}

} // namespace gradc::ir
