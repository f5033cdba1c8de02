//===- tests/unit/test_lexer.cpp - Tokens, locations and lexical errors ---===//
#include "frontend/Lexer.h"

#include <doctest/doctest.h>

#include <sstream>
#include <vector>

using namespace gradc;

namespace {

struct Lexed {
  std::vector<Token> tokens;
  std::string diag; ///< everything the DiagnosticEngine printed
  bool failed = false;
};

Lexed lex(const std::string &text) {
  SourceManager sm;
  std::ostringstream os;
  DiagnosticEngine diags(sm, &os);
  uint32_t file = sm.addFile("t.grad", text);
  Lexed r;
  try {
    Lexer lexer(sm.text(file), file, diags);
    for (;;) {
      r.tokens.push_back(lexer.next());
      if (r.tokens.back().is(TokenKind::Eof))
        break;
    }
  } catch (const UserError &) {
    r.failed = true;
  }
  r.diag = os.str();
  return r;
}

std::vector<TokenKind> kinds(const std::string &text) {
  std::vector<TokenKind> out;
  for (const Token &t : lex(text).tokens)
    out.push_back(t.kind);
  return out;
}

/// The first line of the diagnostic: "t.grad:L:C: error: MESSAGE".
std::string firstError(const std::string &text) {
  Lexed r = lex(text);
  CHECK(r.failed);
  return r.diag.substr(0, r.diag.find('\n'));
}

} // namespace

using K = TokenKind;

TEST_CASE("lexer: every token kind") {
  std::string text = "model def dim const input param noise state update output minimize metric "
                     "optimizer clip_norm return import for in int training x_1 3 0.5 \"std\" "
                     "+ - * / ^ < <= > >= == != = , : ; ( ) [ ] { } .. ... ->\n";
  std::vector<TokenKind> expected = {
      K::KwModel,     K::KwDef,      K::KwDim,     K::KwConst,  K::KwInput,    K::KwParam,
      K::KwNoise,     K::KwState,    K::KwUpdate,  K::KwOutput, K::KwMinimize, K::KwMetric,
      K::KwOptimizer, K::KwClipNorm, K::KwReturn,  K::KwImport, K::KwFor,      K::KwIn,
      K::KwInt,       K::Name,       K::Name,      K::Number,   K::Number,     K::String,
      K::Plus,        K::Minus,      K::Star,      K::Slash,    K::Caret,      K::Less,
      K::LessEq,      K::Greater,    K::GreaterEq, K::EqEq,     K::NotEq,      K::Assign,
      K::Comma,       K::Colon,      K::Semi,      K::LParen,   K::RParen,     K::LBracket,
      K::RBracket,    K::LBrace,     K::RBrace,    K::DotDot,   K::Ellipsis,   K::Arrow,
      K::Newline,     K::Eof};
  CHECK(kinds(text) == expected);
  Lexed r = lex(text);
  CHECK(r.tokens[19].text == "training");
  CHECK(r.tokens[23].text == "std"); // a string's text is its contents
  CHECK(describeToken(r.tokens[23]) == "'\"std\"'");
  CHECK(describeToken(r.tokens.back()) == "end of file");
  CHECK(tokenKindName(K::Newline) == "end of line");
  CHECK(tokenKindName(K::LParen) == "'('");
}

TEST_CASE("lexer: numbers and ranges") {
  Lexed r = lex("3 0.5 1e-5 2.5e3 7E+2 007");
  REQUIRE(r.tokens.size() == 7);
  CHECK(r.tokens[0].number == 3);
  CHECK(r.tokens[1].number == 0.5);
  CHECK(r.tokens[2].number == doctest::Approx(1e-5));
  CHECK(r.tokens[3].number == 2500);
  CHECK(r.tokens[4].number == 700);
  CHECK(r.tokens[5].number == 7);
  CHECK(r.tokens[2].text == "1e-5");

  CHECK(kinds("0..N") == std::vector<K>{K::Number, K::DotDot, K::Name, K::Eof});
  CHECK(kinds("1..N+1") ==
        std::vector<K>{K::Number, K::DotDot, K::Name, K::Plus, K::Number, K::Eof});
  CHECK(kinds("x[..., i]") ==
        std::vector<K>{K::Name, K::LBracket, K::Ellipsis, K::Comma, K::Name, K::RBracket, K::Eof});
  CHECK(lex("1e-999").tokens[0].number == 0); // underflow rounds to zero
  CHECK(lex("100000e-330").tokens[0].number == 0);
  CHECK(lex("0.00001e-320").tokens[0].number == 0);
  CHECK(firstError("1000e306") == "t.grad:1:1: error: the number '1000e306' is too large");
  CHECK(firstError("x = 1e999") == "t.grad:1:5: error: the number '1e999' is too large");
}

TEST_CASE("lexer: line breaks inside brackets continue the statement") {
  CHECK(kinds("f(a,\n  b)\nc") == std::vector<K>{K::Name, K::LParen, K::Name, K::Comma, K::Name,
                                                 K::RParen, K::Newline, K::Name, K::Eof});
  CHECK(kinds("x[i,\n j]\n") == std::vector<K>{K::Name, K::LBracket, K::Name, K::Comma, K::Name,
                                               K::RBracket, K::Newline, K::Eof});
  // Braces do not continue a statement.
  CHECK(kinds("{\n}") == std::vector<K>{K::LBrace, K::Newline, K::RBrace, K::Eof});
  // Comments run to the end of the line; the line break stays.
  CHECK(kinds("# top\nx # tail ( [\ny") ==
        std::vector<K>{K::Newline, K::Name, K::Newline, K::Name, K::Eof});
}

TEST_CASE("lexer: locations count lines and code points from 1") {
  Lexed r = lex("dim N\n  \tx = 3");
  REQUIRE(r.tokens.size() == 7);
  CHECK(r.tokens[0].loc.line == 1);
  CHECK(r.tokens[0].loc.col == 1);
  CHECK(r.tokens[1].loc.col == 5);
  CHECK(r.tokens[2].loc.col == 6); // the line break sits after 'N'
  CHECK(r.tokens[3].loc.line == 2);
  CHECK(r.tokens[3].loc.col == 4); // a tab is one column
  CHECK(r.tokens[5].loc.col == 8);

  // A multibyte character on an earlier line does not shift later lines.
  r = lex("# héllo wörld ∑\nab  cd");
  CHECK(r.tokens[2].text == "cd");
  CHECK(r.tokens[2].loc.line == 2);
  CHECK(r.tokens[2].loc.col == 5);

  // Within a line, a multibyte character is one column.
  r = lex("import \"dé/∑.grad\" x");
  REQUIRE(r.tokens.size() == 4);
  CHECK(r.tokens[1].text == "dé/∑.grad");
  CHECK(r.tokens[2].loc.col == 20);

  // A BOM is not a character; CR LF line ends work.
  r = lex("\xEF\xBB\xBFmodel m\r\n{");
  CHECK(r.tokens[0].is(K::KwModel));
  CHECK(r.tokens[0].loc.col == 1);
  CHECK(r.tokens[3].is(K::LBrace));
  CHECK(r.tokens[3].loc.line == 2);
  CHECK(r.tokens[3].loc.col == 1);
}

TEST_CASE("lexer: invalid UTF-8 is reported at the first bad byte") {
  CHECK(firstError("# é\x80") == "t.grad:1:4: error: invalid UTF-8 byte 0x80");
  CHECK(firstError("x\n# é€\xFF y") == "t.grad:2:5: error: invalid UTF-8 byte 0xFF");
  CHECK(firstError("ab\xC0\x80") == "t.grad:1:3: error: invalid UTF-8 byte 0xC0");   // overlong
  CHECK(firstError("\xED\xA0\x80") == "t.grad:1:1: error: invalid UTF-8 byte 0xED"); // surrogate
  CHECK(firstError("# \xF4\x90\x80\x80") == "t.grad:1:3: error: invalid UTF-8 byte 0xF4");
  CHECK(firstError("# \xE2\x82") == "t.grad:1:3: error: invalid UTF-8 byte 0xE2"); // truncated
  CHECK(firstError("# \xC3(") == "t.grad:1:3: error: invalid UTF-8 byte 0xC3");
  // The whole file is checked before any token: a later bad byte wins over
  // an earlier unexpected character.
  CHECK(firstError("$\n\xFE") == "t.grad:2:1: error: invalid UTF-8 byte 0xFE");
  // The diagnostic shows the line and a caret under the column.
  Lexed r = lex("# é\x80");
  CHECK(r.diag.find("\n   ^\n") != std::string::npos);
}

TEST_CASE("lexer: errors name what is wrong") {
  CHECK(firstError("x = 1.") == "t.grad:1:5: error: numbers may not end with '.': write 1.0");
  CHECK(firstError("x = 12.+a") == "t.grad:1:5: error: numbers may not end with '.': write 12.0");
  CHECK(firstError("x = .5") == "t.grad:1:5: error: numbers may not start with '.': write 0.5");
  CHECK(firstError("x = 1e") == "t.grad:1:5: error: expected digits after the exponent in '1e'");
  CHECK(firstError("x = 2x") == "t.grad:1:5: error: '2x' is not a number; write 2*x for a product");
  CHECK(firstError("x = 1.5.2") == "t.grad:1:8: error: unexpected '.' after the number '1.5'");
  CHECK(firstError("a $ b") == "t.grad:1:3: error: unexpected character '$'");
  CHECK(firstError("a ! b") ==
        "t.grad:1:3: error: unexpected character '!' (not-equal is written '!=')");
  CHECK(firstError("a . b") ==
        "t.grad:1:3: error: unexpected character '.' (a range is written lo..hi)");
  CHECK(firstError("a \x07") == "t.grad:1:3: error: unexpected character U+0007");
  CHECK(firstError("é") == "t.grad:1:1: error: unexpected character 'é' (U+00E9)");
  CHECK(firstError("a × b") == "t.grad:1:3: error: unexpected character '×' (U+00D7); write '*'");
  CHECK(firstError("import \"std\nx") ==
        "t.grad:1:8: error: unterminated string: it must end with '\"' on the line where it "
        "starts");
}
