//===- tests/unit/test_parser.cpp - Parser, AST printer and module loader -===//
#include "frontend/ASTPrinter.h"
#include "frontend/ModuleLoader.h"
#include "frontend/Parser.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace gradc;
using namespace gradc::ast;

namespace {

struct Parsed {
  std::unique_ptr<Module> module;
  std::string diag; ///< everything the DiagnosticEngine printed
};

Parsed parse(const std::string &text) {
  SourceManager sm;
  std::ostringstream os;
  DiagnosticEngine diags(sm, &os);
  uint32_t file = sm.addFile("t.grad", text);
  Parsed r;
  try {
    r.module = parseModule(sm.text(file), file, diags);
  } catch (const UserError &) {
  }
  r.diag = os.str();
  return r;
}

/// The tree of a file that must parse.
std::string tree(const std::string &text) {
  Parsed r = parse(text);
  INFO(r.diag);
  REQUIRE(r.module);
  return printAST(*r.module);
}

/// The first line of the error a file must produce.
std::string firstError(const std::string &text) {
  Parsed r = parse(text);
  CHECK(!r.module);
  return r.diag.substr(0, r.diag.find('\n'));
}

/// One statement inside a model, as the tree's body line(s) unindented.
std::string stmt(const std::string &text) {
  std::istringstream lines(tree("model m {\n" + text + "\n}\n"));
  std::string line, out;
  std::getline(lines, line); // "(model m"
  while (std::getline(lines, line))
    out += (out.empty() ? "" : "\n") + line.substr(2);
  return out.substr(0, out.size() - 1); // the model's closing ')'
}

ExprPtr parseExprText(const std::string &text, std::string *diag = nullptr) {
  SourceManager sm;
  std::ostringstream os;
  DiagnosticEngine diags(sm, &os);
  uint32_t file = sm.addFile("e.grad", text);
  ExprPtr e;
  try {
    Parser parser(sm.text(file), file, diags);
    e = parser.parseStandaloneExpr();
  } catch (const UserError &) {
  }
  if (diag)
    *diag = os.str().substr(0, os.str().find('\n'));
  return e;
}

/// An expression as an S-expression.
std::string sx(const std::string &text) {
  std::string diag;
  ExprPtr e = parseExprText(text, &diag);
  INFO(diag);
  REQUIRE(e);
  return printSExpr(*e);
}

/// The error of an expression that must not parse.
std::string exprError(const std::string &text) {
  std::string diag;
  CHECK(!parseExprText(text, &diag));
  return diag;
}

} // namespace

//===-- Expressions --------------------------------------------------------===//

TEST_CASE("parser: precedence and associativity") {
  CHECK(sx("-x^2") == "(neg (^ x 2))");
  CHECK(sx("a+b*c^2^3") == "(+ a (* b (^ c (^ 2 3))))");
  CHECK(sx("x^-2") == "(^ x (neg 2))");
  CHECK(sx("a - b - c") == "(- (- a b) c)");
  CHECK(sx("a * b / c * d") == "(* (/ (* a b) c) d)");
  CHECK(sx("-a*b") == "(* (neg a) b)");
  CHECK(sx("a * -b") == "(* a (neg b))");
  CHECK(sx("- -a") == "(neg (neg a))");
  CHECK(sx("(a + b)^2") == "(^ (+ a b) 2)");
  CHECK(sx("a < b + 1") == "(< a (+ b 1))");
  CHECK(sx("(a < b) * (b < c)") == "(* (< a b) (< b c))");
  CHECK(sx("s <= t") == "(<= s t)");
  CHECK(sx("a == b") == "(== a b)");
  CHECK(sx("a != b") == "(!= a b)");
  CHECK(sx("a >= b") == "(>= a b)");
  CHECK(sx("a > b") == "(> a b)");
  CHECK(sx("1 - G[b,t,j]") == "(- 1 G[b t j])");
  CHECK(exprError("a < b < c") ==
        "e.grad:1:7: error: comparisons do not chain; write (a < b) * (b < c) or use where");
  CHECK(exprError("a == b != c") ==
        "e.grad:1:8: error: comparisons do not chain; write (a < b) * (b < c) or use where");
}

TEST_CASE("parser: numbers keep their text and kind") {
  ExprPtr e = parseExprText("3");
  REQUIRE(e);
  const auto *n = e->as<NumberExpr>();
  REQUIRE(n);
  CHECK(n->value == 3);
  CHECK(n->isInteger);
  e = parseExprText("1e-5");
  CHECK(!e->as<NumberExpr>()->isInteger);
  CHECK(e->as<NumberExpr>()->text == "1e-5");
  CHECK(!parseExprText("3.0")->as<NumberExpr>()->isInteger);
  CHECK(sx("2.5e3") == "2.5e3");
}

TEST_CASE("parser: subscripts, calls and binders") {
  CHECK(sx("h[b, t-1, j]") == "h[b (- t 1) j]");
  CHECK(sx("E[tok[b,t], j]") == "E[tok[b t] j]");
  CHECK(sx("x[..., i]") == "x[... i]");
  CHECK(sx("max(a, b)") == "(call max a b)");
  CHECK(sx("max(v: E[v])") == "(max [v] E[v])");
  CHECK(sx("max(dx in 0..2, dy in 0..2: L[b, 2*x+dx, 2*y+dy, j])") ==
        "(max [(dx 0 2) (dy 0 2)] L[b (+ (* 2 x) dx) (+ (* 2 y) dy) j])");
  CHECK(sx("mean(...: x[..., c])") == "(mean [...] x[... c])");
  CHECK(sx("softmax(v: z[b,v])") == "(softmax [v] z[b v])");
  CHECK(sx("mean(b, t: sum(k: (p[b,t,k] - y[b,t,k])^2))") ==
        "(mean [b t] (sum [k] (^ (- p[b t k] y[b t k]) 2)))");
  CHECK(sx("count(v, w)") == "(call count v w)");
  CHECK(sx("count(...)") == "(call count ...)");
  CHECK(sx("sum(j: a[j]) / count(j)") == "(/ (sum [j] a[j]) (call count j))");
  CHECK(sx("sum(i in 1..N+1, ...: x[i])") == "(sum [(i 1 (+ N 1)) ...] x[i])");
  CHECK(sx("where(s <= t, z[b,t,s], -1e9)") == "(call where (<= s t) z[b t s] (neg 1e9))");
  CHECK(sx("he(fan_in = K)") == "(call he fan_in=K)");
  CHECK(sx("adam(0.1, beta1 = 0.9, eps = 1e-8)") == "(call adam 0.1 beta1=0.9 eps=1e-8)");
  CHECK(sx("f()") == "(call f)");
  CHECK(sx("training * x") == "(* training x)");
  CHECK(sx("f(a,\n  b)") == "(call f a b)");
  CHECK(sx("sum(v:\n  x[\n v])") == "(sum [v] x[v])");
  // Keywords are names where a name is expected.
  CHECK(sx("output[in] + state") == "(+ output[in] state)");
}

TEST_CASE("parser: printExpr writes source with minimal parentheses") {
  auto roundTrip = [](const std::string &text) {
    ExprPtr e = parseExprText(text);
    REQUIRE(e);
    std::string printed = printExpr(*e);
    ExprPtr again = parseExprText(printed);
    REQUIRE(again);
    CHECK(printSExpr(*again) == printSExpr(*e));
    return printed;
  };
  CHECK(roundTrip("((a + b)) * c") == "(a + b)*c");
  CHECK(roundTrip("a + (b * c)") == "a + b*c");
  CHECK(roundTrip("a - (b - c)") == "a - (b - c)");
  CHECK(roundTrip("(a - b) - c") == "a - b - c");
  CHECK(roundTrip("-(x^2)") == "-x^2");
  CHECK(roundTrip("(-x)^2") == "(-x)^2");
  CHECK(roundTrip("(a^b)^c") == "(a^b)^c");
  CHECK(roundTrip("a^(b^c)") == "a^b^c");
  CHECK(roundTrip("x^(-2)") == "x^-2");
  CHECK(roundTrip("x^(a*b)") == "x^(a*b)");
  CHECK(roundTrip("-(-x)") == "-(-x)");
  CHECK(roundTrip("-(a + b)") == "-(a + b)");
  CHECK(roundTrip("a * (-b)") == "a*-b");
  CHECK(roundTrip("(a < b) == c") == "(a < b) == c");
  CHECK(roundTrip("a < (b + 1)") == "a < b + 1");
  CHECK(roundTrip("W[j,i]*h[b,t-1,i] + c[j]") == "W[j, i]*h[b, t - 1, i] + c[j]");
  CHECK(roundTrip("max(dx in 0..2: L[x+dx])") == "max(dx in 0..2: L[x + dx])");
  CHECK(roundTrip("mean(...: x[..., c])") == "mean(...: x[..., c])");
  CHECK(roundTrip("he(fan_in=K)") == "he(fan_in = K)");
  CHECK(roundTrip("f(a, ...)") == "f(a, ...)");

  // Nodes built by later passes: numbers without text, negative constants.
  auto pow = std::make_unique<BinaryExpr>(SourceLoc{}, BinaryOp::Pow);
  auto base = std::make_unique<NumberExpr>(SourceLoc{});
  base->value = -2;
  auto exponent = std::make_unique<NumberExpr>(SourceLoc{});
  exponent->value = 0.5;
  pow->lhs = std::move(base);
  pow->rhs = std::move(exponent);
  CHECK(printExpr(*pow) == "(-2)^0.5");
}

//===-- Statements ---------------------------------------------------------===//

TEST_CASE("parser: every statement kind") {
  CHECK(stmt("dim N = 8, M = 4, N2 = N/2") == "(dim N 8)\n(dim M 4)\n(dim N2 (/ N 2))");
  CHECK(stmt("const tau = 0.1") == "(const tau 0.1)");
  CHECK(stmt("input x[N, M]") == "(input x [N M])");
  CHECK(stmt("input tok[B, T] : int") == "(input tok [B T] int)");
  CHECK(stmt("input s") == "(input s)");
  CHECK(stmt("input f : f32") == "(input f)");
  CHECK(stmt("param W[J, K] = he()") == "(param W [J K] (call he))");
  CHECK(stmt("param s = zeros()") == "(param s (call zeros))");
  CHECK(stmt("param W[J,K] = he(fan_in = K)") == "(param W [J K] (call he fan_in=K))");
  CHECK(stmt("param W[2*J, K+1]") == "(param W [(* 2 J) (+ K 1)])");
  CHECK(stmt("noise e[B, Z] = normal(1)") == "(noise e [B Z] (call normal 1))");
  CHECK(stmt("state m[J] = zeros()") == "(state m [J] (call zeros))");
  CHECK(stmt("update m[j] = 0.9*m[j] + 0.1*mean(b: x[b,j])") ==
        "(update m[j] (+ (* 0.9 m[j]) (* 0.1 (mean [b] x[b j]))))");
  CHECK(stmt("update m = m + 1 for j in 0..J") == "(update m (+ m 1) (for (j 0 J)))");
  CHECK(stmt("A[i, j] = B[j, i]") == "(eq A[i j] B[j i])");
  CHECK(stmt("A = relu(z)") == "(eq A (call relu z))");
  CHECK(stmt("h[b, -1, j] = h0[b, j]") == "(eq h[b (neg 1) j] h0[b j])");
  CHECK(stmt("h[-1, b, j] = x[b, j]") == "(eq h[(neg 1) b j] x[b j])");
  CHECK(stmt("h, c = lstm(x, H)") == "(eq (h c) (call lstm x H))");
  CHECK(stmt("c[b,k] = a[b,k] + d[b,k-K1] for k in 0..K1+K2") ==
        "(eq c[b k] (+ a[b k] d[b (- k K1)]) (for (k 0 (+ K1 K2))))");
  CHECK(stmt("Lt[b,x,y,j] = L[b, 2*x, 2*y, j] for x in 0..X2, y in 0..Y2, j in 0..J2") ==
        "(eq Lt[b x y j] L[b (* 2 x) (* 2 y) j] (for (x 0 X2) (y 0 Y2) (j 0 J2)))");
  CHECK(stmt("output a, b") == "(output a b)");
  CHECK(stmt("minimize loss") == "(minimize loss)");
  CHECK(stmt("metric acc = mean(b: argmax(c: z[b,c]) == y[b])") ==
        "(metric acc (mean [b] (== (argmax [c] z[b c]) y[b])))");
  CHECK(stmt("optimizer adam(lr = 1e-3)") == "(optimizer (call adam lr=1e-3))");
  CHECK(stmt("optimizer sgd(0.1)") == "(optimizer (call sgd 0.1))");
  CHECK(stmt("clip_norm 5.0") == "(clip_norm 5.0)");
  // Statement keywords followed by '=', '[' or ',' name tensors.
  CHECK(stmt("output = relu(state)") == "(eq output (call relu state))");
  CHECK(stmt("input[i] = x[i]") == "(eq input[i] x[i])");
}

TEST_CASE("parser: separators, blank lines, comments and continuation lines") {
  std::string text = "# a model\n"
                     "model m {   # opens\n"
                     "\n"
                     "  dim B = 2 ; dim K = 3;\n"
                     "  input x[B,\n"
                     "          K]   # continued\n"
                     "  y[b, k] = f(x[b, k],\n"
                     "              2)\n"
                     "  ;;\n"
                     "  output y }\n"
                     "model n { dim N = 1 ; output N }\n";
  CHECK(tree(text) == "(model m\n"
                      "  (dim B 2)\n"
                      "  (dim K 3)\n"
                      "  (input x [B K])\n"
                      "  (eq y[b k] (call f x[b k] 2))\n"
                      "  (output y))\n"
                      "(model n\n"
                      "  (dim N 1)\n"
                      "  (output N))\n");
  CHECK(tree("model e {}") == "(model e)\n");
  CHECK(tree("model e\n{\n}") == "(model e)\n");
  CHECK(tree("") == "");
  CHECK(tree("# only a comment\n\n") == "");
}

TEST_CASE("parser: the ugrnn model of the language reference") {
  std::string text = R"(model ugrnn {
  dim B = 32, T = 50, K = 64, J = 128          # sizes
  input  x[B, T, K]
  param  WhR[J, J] = he()   ; param BR[J] = zeros()
  R[b,t,j] = tanh(WhR[j,i]*h[b,t-1,i] + WxR[j,k]*x[b,t,k] - BR[j])
  h[b,t,j] = G[b,t,j]*h[b,t-1,j] + (1 - G[b,t,j])*R[b,t,j]
  loss = mean(b, t: sum(k: (p[b,t,k] - y[b,t,k])^2))
  output h
  minimize loss
})";
  CHECK(tree(text) ==
        "(model ugrnn\n"
        "  (dim B 32)\n"
        "  (dim T 50)\n"
        "  (dim K 64)\n"
        "  (dim J 128)\n"
        "  (input x [B T K])\n"
        "  (param WhR [J J] (call he))\n"
        "  (param BR [J] (call zeros))\n"
        "  (eq R[b t j] (call tanh (- (+ (* WhR[j i] h[b (- t 1) i]) (* WxR[j k] x[b t k])) "
        "BR[j])))\n"
        "  (eq h[b t j] (+ (* G[b t j] h[b (- t 1) j]) (* (- 1 G[b t j]) R[b t j])))\n"
        "  (eq loss (mean [b t] (sum [k] (^ (- p[b t k] y[b t k]) 2))))\n"
        "  (output h)\n"
        "  (minimize loss))\n");
}

TEST_CASE("parser: defs, imports and their parameters") {
  std::string text = R"(import "std"
import "lib/layers.grad"
def dense(x[..., I], dim Out) {          # x: any leading axes
  param W[Out, I] = he()
  dim H = Out/2
  y[..., o] = W[o, i]*x[..., i]
  return y[..., o] + 1 -> [..., o], W
}
def bce_logits(z, y) = max(z, 0) - z*y + log(1 + exp(-abs(z)))
def many(a[N, I], b[...], c, tok: int, ids[B, T]: int) { return a }
def none() { return 1 }
model m { output x }
)";
  Parsed r = parse(text);
  INFO(r.diag);
  REQUIRE(r.module);
  const Module &m = *r.module;
  REQUIRE(m.imports.size() == 2);
  CHECK(m.imports[0].path == "std");
  CHECK(m.imports[0].loc.col == 8); // the path's location
  CHECK(m.imports[1].path == "lib/layers.grad");
  REQUIRE(m.defs.size() == 4);
  const FuncDef &many = *m.defs[2];
  REQUIRE(many.params.size() == 5);
  CHECK(many.params[0].kind == ParamKind::Tensor);
  CHECK(many.params[0].axes.size() == 2);
  CHECK(many.params[1].kind == ParamKind::Tensor);
  CHECK(many.params[1].axes[0].name == "...");
  CHECK(many.params[2].kind == ParamKind::Bare);
  CHECK(many.params[3].kind == ParamKind::Int);
  CHECK(many.params[3].isInt);
  CHECK(many.params[3].axes.empty());
  CHECK(many.params[4].kind == ParamKind::Int);
  CHECK(many.params[4].axes.size() == 2);
  CHECK(m.defs[1]->exprBody);
  CHECK(m.defs[1]->body.empty());
  CHECK(printAST(m) ==
        "(import \"std\")\n"
        "(import \"lib/layers.grad\")\n"
        "(def dense (x [... I]) (dim Out)\n"
        "  (param W [Out I] (call he))\n"
        "  (dim H (/ Out 2))\n"
        "  (eq y[... o] (* W[o i] x[... i]))\n"
        "  (return (-> (+ y[... o] 1) [... o]) W))\n"
        "(def bce_logits (z) (y)\n"
        "  (= (+ (- (call max z 0) (* z y)) (call log (+ 1 (call exp (neg (call abs z))))))))\n"
        "(def many (a [N I]) (b [...]) (c) (tok int) (ids [B T] int)\n"
        "  (return a))\n"
        "(def none\n"
        "  (return 1))\n"
        "(model m\n"
        "  (output x))\n");
}

TEST_CASE("parser: locations of nodes") {
  Parsed r = parse("model m {\n  h[b, t] = a[t]*2 + c\n}");
  REQUIRE(r.module);
  const auto *eq = r.module->models[0]->body[0]->as<EquationStmt>();
  REQUIRE(eq);
  CHECK(eq->loc.line == 2);
  CHECK(eq->loc.col == 3);
  CHECK(eq->lhs[0].subscripts[1]->loc.col == 8);
  const auto *sum = eq->rhs->as<BinaryExpr>();
  REQUIRE(sum);
  CHECK(sum->loc.col == 13);   // first token of the sum
  CHECK(sum->opLoc.col == 20); // the '+'
  CHECK(r.module->models[0]->loc.col == 1);
}

//===-- Errors -------------------------------------------------------------===//

TEST_CASE("parser: nesting is bounded") {
  std::string deep(100000, '(');
  CHECK(exprError(deep + "x") == "e.grad:1:257: error: nesting deeper than 256 levels");
  CHECK(exprError(std::string(100000, '-') + "x") ==
        "e.grad:1:257: error: nesting deeper than 256 levels");
  std::string subs;
  for (int i = 0; i < 50000; ++i)
    subs += "a[";
  CHECK(exprError(subs) == "e.grad:1:514: error: nesting deeper than 256 levels");
  std::string chain = "x";
  for (int i = 0; i < 100000; ++i)
    chain += "+x";
  CHECK(exprError(chain) == "e.grad:1:514: error: nesting deeper than 256 levels");
  std::string calls;
  for (int i = 0; i < 100000; ++i)
    calls += "f(";
  CHECK(exprError(calls) == "e.grad:1:514: error: nesting deeper than 256 levels");
  // 256 levels are fine.
  CHECK(sx(std::string(256, '(') + "x" + std::string(256, ')')) == "x");
  // Inside a model too.
  CHECK(firstError("model m {\n y = " + deep + "\n}") ==
        "t.grad:2:262: error: nesting deeper than 256 levels");
}

TEST_CASE("parser: syntax errors point at the offending token") {
  CHECK(firstError("model m {\n  y = h[b, t\n}") ==
        "t.grad:3:1: error: expected ']' to close the subscript of 'h' opened at 2:8, found '}'");
  CHECK(firstError("model m {\n  y = f(a, )\n}") ==
        "t.grad:2:12: error: expected an expression, found ')'");
  CHECK(firstError("model m {\n  y = f(a b)\n}") ==
        "t.grad:2:11: error: expected an operator, ',' or ')' to close the call of 'f' opened at "
        "2:8, found 'b' (a product is written with '*')");
  CHECK(firstError("model m {\n  y = f(a\n  z = 3\n}") ==
        "t.grad:3:3: error: expected an operator, ',' or ')' to close the call of 'f' opened at "
        "2:8, found 'z' (is a ')' missing at the end of line 2?)");
  CHECK(firstError("model m {\n  y = (a b)\n}") ==
        "t.grad:2:10: error: expected an operator or ')' to close the '(' opened at 2:7, found "
        "'b' (a product is written with '*')");
  CHECK(firstError("model m {\n  y = sum(i: a[i] 2)\n}") ==
        "t.grad:2:19: error: expected an operator or ')' to close 'sum(' opened at 2:10, found "
        "'2' (a product is written with '*')");
  CHECK(firstError("model m {\n  y = h[b t]\n}") ==
        "t.grad:2:11: error: expected an operator, ',' or ']' to close the subscript of 'h' "
        "opened at 2:8, found 't' (a product is written with '*')");
  CHECK(firstError("model m {\n  y = a b\n}") ==
        "t.grad:2:9: error: expected an operator or the end of the statement, found 'b' (a "
        "product is written with '*')");
  CHECK(firstError("model m {\n  y = (a + b\n}") ==
        "t.grad:3:1: error: expected ')' to close the '(' opened at 2:7, found '}'");
  CHECK(firstError("model m {\n  y = 1.\n}") ==
        "t.grad:2:7: error: numbers may not end with '.': write 1.0");
  CHECK(firstError("model m {\n  y = a < b < c\n}") ==
        "t.grad:2:13: error: comparisons do not chain; write (a < b) * (b < c) or use where");
  CHECK(firstError("model m {\n  dim N = 3\n") ==
        "t.grad:3:1: error: expected '}' to close the model 'm' opened at 1:9, found end of file");
  CHECK(firstError("model m {\n  imput x[N]\n}") ==
        "t.grad:2:3: error: 'imput' is not a statement keyword; did you mean 'input'?");
  CHECK(firstError("model m {\n  foo bar\n}") ==
        "t.grad:2:3: error: 'foo' is not a statement keyword; an equation is written NAME = ...");
  CHECK(firstError("model m {\n  dim N\n}") ==
        "t.grad:2:8: error: expected '=' and a size after 'dim N', as in dim N = 8, found end of "
        "line");
  CHECK(firstError("model m {\n  input x[N] = zeros()\n}") ==
        "t.grad:2:14: error: an input has no initializer: its values are given on every call");
  CHECK(firstError("model m {\n  param W[N] = 0.5\n}") ==
        "t.grad:2:16: error: an initializer is a call such as zeros(), he() or normal(0.01)");
  CHECK(firstError("model m {\n  y[i] = x[i] for i 0..N\n}") ==
        "t.grad:2:21: error: expected 'in' after 'i', as in for i in 0..N, found '0'");
  CHECK(firstError("model m {\n  y[i] = x[i] for i in N\n}") ==
        "t.grad:2:25: error: expected '..' in the range of 'i' (a range is written 0..N), found "
        "end of line");
  CHECK(firstError("dim N = 3") == "t.grad:1:1: error: expected 'model', 'def' or 'import' "
                                   "(statements belong inside a model { ... }), found 'dim'");
  CHECK(firstError("}") == "t.grad:1:1: error: '}' does not close any block");
  CHECK(firstError("def f(x) {\n  output x\n}") ==
        "t.grad:2:3: error: 'output' is not allowed in a def body, only in a model");
  CHECK(firstError("model m {\n  return x\n}") ==
        "t.grad:2:3: error: 'return' is only allowed in a def body");
  CHECK(firstError("model m {\n  def f(x) = x\n}") ==
        "t.grad:2:3: error: 'def' must be at the top level of a file (is a '}' missing above?)");
  CHECK(firstError("model m {\n  y = x[i][j]\n}") ==
        "t.grad:2:11: error: write all subscripts of 'x' in one pair of brackets, separated by "
        "commas");
  CHECK(firstError("model m {\n  y = f(x)[i]\n}") ==
        "t.grad:2:11: error: the result of 'f(...)' cannot be subscripted; give it a name first");
  CHECK(firstError("model m {\n  y = sum(: x)\n}") ==
        "t.grad:2:11: error: 'sum' needs an index variable before ':', as in sum(i: ...)");
  CHECK(firstError("model m {\n  y = sum(i, 2: x)\n}") ==
        "t.grad:2:15: error: only index variables (names, 'v in lo..hi' or '...') may stand "
        "before ':' in 'sum(...)'");
  CHECK(firstError("model m {\n  y = x[]\n}") ==
        "t.grad:2:9: error: empty subscript in the subscript of 'x'; a scalar is written without "
        "brackets");
  CHECK(firstError("model m {\n  y = x + ...\n}") ==
        "t.grad:2:11: error: '...' must stand alone, as a subscript, a binder variable or a call "
        "argument");
  CHECK(firstError("model m {\n  optimizer adam\n}") ==
        "t.grad:2:17: error: expected '(' after 'adam', as in adam(lr = 1e-3), found end of line");
  CHECK(firstError("model m {\n  minimize a + b\n}") ==
        "t.grad:2:14: error: 'minimize' takes one name: write 'loss = ...' and then 'minimize "
        "loss'");
  CHECK(firstError("model m {\n  o = adam(lr = 1, 2)\n}") ==
        "t.grad:2:20: error: a positional argument may not follow the named argument 'lr'");
  CHECK(firstError("model m {\n  o = adam(lr = 1, lr = 2)\n}") ==
        "t.grad:2:20: error: the argument 'lr' is given twice");
  CHECK(firstError("def f(x[I, ...]) = x") ==
        "t.grad:1:12: error: '...' may only stand for leading axes: write x[..., I]");
  CHECK(firstError("def f(x) {\n  return x -> i\n}") ==
        "t.grad:2:15: error: expected '[' and the result's axes after '->', found 'i'");
  CHECK(firstError("import std") ==
        "t.grad:1:8: error: expected a quoted path after 'import', as in import \"std\", found "
        "'std'");
  CHECK(firstError("model m {\n  input tok[B] : i32\n}") ==
        "t.grad:2:18: error: expected 'int' or 'f32' after ':', found 'i32'");
  CHECK(firstError("model m {\n  y[i] = x[i]\n  for i in 0..N\n}") ==
        "t.grad:3:3: error: a 'for' clause goes at the end of an equation, on the same line");
}
