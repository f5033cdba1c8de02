//===- tests/unit/test_simplify.cpp - Constant conditions and CSE ----------===//
//
// passes::simplify() on IR text: `where` with a constant condition or equal
// branches folds; ops recomputing an earlier op's value merge, with the
// naming rules that keep `--emit=grad-eqs` readable; leaves other than
// constants never merge; and, for native code, a scatter_add that hits each
// position once becomes a remap computing the same values (checked in the
// interpreter on random inputs).
//
//===----------------------------------------------------------------------===//
#include "InterpreterTestUtil.h"
#include "ir/IRParser.h"
#include "ir/Printer.h"
#include "passes/DeadCode.h"
#include "passes/Simplify.h"

#include <doctest/doctest.h>

#include <sstream>

using namespace gradc;

namespace {

std::unique_ptr<ir::Graph> parse(const std::string &text, SourceManager &sm) {
  std::ostringstream os;
  DiagnosticEngine diags(sm, &os);
  auto g = ir::parseGraph(text, "s.ir", sm, diags);
  REQUIRE_MESSAGE(g, os.str());
  return g;
}

std::string simplified(const std::string &text, passes::SimplifyStats &stats,
                       bool gathers = false) {
  SourceManager sm;
  auto g = parse(text, sm);
  stats = passes::simplify(*g, gathers);
  passes::eliminateDeadCode(*g);
  return ir::printGraph(*g, nullptr);
}

bool has(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("where with a constant condition is the branch it selects") {
  passes::SimplifyStats s;
  std::string out = simplified(R"(graph @m training=1 {
  %x = input "x" : f32[3]
  %y = input "y" : f32[3]
  %c = input "c" : f32[3]
  %on = constant 1 : f32[]
  %off = constant 0 : f32[]
  %a = where %on, %x, %y : f32[3]
  %b = where %off, %x, %y : f32[3]
  %same = where %c, %x, %x : f32[3]
  %kept = where %c, %x, %y : f32[3]
  %broadcast = where %on, %on, %y : f32[3]
  output "a" = %a
  output "b" = %b
  output "same" = %same
  output "kept" = %kept
  output "broadcast" = %broadcast
}
)", s);
  CHECK(s.folded == 3);
  CHECK(has(out, "output \"a\" = %x"));
  CHECK(has(out, "output \"b\" = %y"));
  CHECK(has(out, "output \"same\" = %x"));
  CHECK(has(out, "%kept = where %c, %x, %y"));
  // A rank-0 branch cannot stand for a rank-1 result.
  CHECK(has(out, "%broadcast = where %on, %on, %y"));
}

TEST_CASE("an op recomputing an earlier value merges into it; leaves do not") {
  passes::SimplifyStats s;
  std::string out = simplified(R"(graph @m training=0 {
  %x = input "x" : f32[2,3]
  %w1 = param "w1" zeros() : f32[3]
  %w2 = param "w2" zeros() : f32[3]
  %u1 = noise "u1" uniform(0, 1) : f32[3]
  %u2 = noise "u2" uniform(0, 1) : f32[3]
  %0 = remap %w1[d1] : f32[2,3]
  %1 = remap %w1[d1] : f32[2,3]
  %2 = add %x, %0 : f32[2,3]
  %3 = add %x, %1 : f32[2,3]
  %4 = mul %2, %3 : f32[2,3]
  %5 = add %w1, %w2 : f32[3]
  %6 = add %u1, %u2 : f32[3]
  %7 = remap %x[d1, d0] : f32[3,2]
  %7.1 = remap %x[d1, d0] : f32[3,2]
  %sum = add %7, %7.1 : f32[3,2]
  output "p" = %4
  output "q" = %5
  output "r" = %6
  output "sum" = %sum
}
)", s);
  // %1 into %0, then %3 into %2 (its operand now the same), %7.1 into %7.
  CHECK(s.merged == 3);
  CHECK(has(out, "%4 = mul %2, %2"));
  CHECK(has(out, "%5 = add %w1, %w2"));
  CHECK(has(out, "%6 = add %u1, %u2"));
  CHECK(has(out, "%sum = add %7, %7"));
}

TEST_CASE("merging keeps the names people read") {
  passes::SimplifyStats s;
  std::string out = simplified(R"(graph @m training=0 {
  %x = input "x" : f32[3]
  %0 = neg %x : f32[3]
  %h = neg %x : f32[3]
  %a = exp %x : f32[3]
  %b = exp %x : f32[3]
  %1 = constant 1 : f32[]
  %grad.loss = constant 1 : f32[]
  %p = add %0, %h : f32[3]
  %q = add %a, %b : f32[3]
  %r = mul %1, %grad.loss : f32[]
  output "p" = %p
  output "q" = %q
  output "r" = %r
}
)", s);
  // A named value merges into an earlier temporary, which takes its name;
  // two source names stay apart; a named constant is not any other constant.
  CHECK(s.merged == 1);
  CHECK(has(out, "%p = add %h, %h"));
  CHECK(has(out, "%q = add %a, %b"));
  CHECK(has(out, "%r = mul %1, %grad.loss"));
}

TEST_CASE("ops inside a recurrence body merge only with the same body's") {
  passes::SimplifyStats s;
  std::string out = simplified(R"(graph @m training=0 {
  %x = input "x" : f32[4,3]
  %h0 = constant 0 : f32[5,3]
  %20 = exp %x : f32[4,3]
  %h.ext = recurrence steps=4 forward (%h0 axis=0 offset=1) args(%t, %h.carried) {
    %10 = remap %x[%t, d0] : f32[3]
    %11 = remap %x[%t, d0] : f32[3]
    %12 = remap %x[%t, d0] : f32[3]
    %prev = remap %h.carried[%t, d0] : f32[3]
    %s = add %prev, %10 : f32[3]
    %s2 = add %s, %11 : f32[3]
    yield %s2 -> 0 set
  } : f32[5,3]
  %21 = exp %x : f32[4,3]
  %13 = remap %x[0, d0] : f32[3]
  %out = add %20, %21 : f32[4,3]
  output "h" = %h.ext
  output "out" = %out
  output "first" = %13
}
)", s);
  CHECK(s.merged == 3); // %11 and %12 into %10, %21 into %20
  CHECK(has(out, "%s2 = add %s, %10"));
  CHECK(has(out, "%out = add %20, %20"));
  CHECK(has(out, "%13 = remap %x[0, d0]"));
}

TEST_CASE("a scatter_add hitting each position once becomes the same gather") {
  const std::string text = R"(graph @m training=0 {
  %x = input "x" : f32[2,3,4]
  %i = input "i" : i32[5]
  %t = scatter_add %x -> [d2, d0, d1] : f32[4,2,3]
  %shift = scatter_add %x -> [d0, d1 + 1, d2 - 1] : f32[2,5,4]
  %sum = scatter_add %x -> [d0, d2] : f32[2,4]
  %stride = scatter_add %x -> [d0, 2*d1, d2] : f32[2,6,4]
  %g = scatter_add %x -> [d0, d1, %i[d2]] : f32[2,3,8]
  output "t" = %t
  output "shift" = %shift
  output "sum" = %sum
  output "stride" = %stride
  output "g" = %g
}
)";
  passes::SimplifyStats s;
  std::string out = simplified(text, s, /*gathers=*/true);
  CHECK(s.gathers == 2);
  CHECK(has(out, "%t = remap %x[d1, d2, d0] : f32[4,2,3]"));
  CHECK(has(out, "%shift = remap %x[d0, d1 - 1, d2 + 1] : f32[2,5,4]"));
  CHECK(has(out, "%sum = scatter_add"));    // positions meet
  CHECK(has(out, "%stride = scatter_add")); // a stride: left alone
  CHECK(has(out, "%g = scatter_add"));      // indirect

  // Without `gathers` the scatters stay (the form --emit=grad-eqs renders).
  CHECK(has(simplified(text, s), "%t = scatter_add"));

  SourceManager sm;
  auto before = parse(text, sm), after = parse(text, sm);
  passes::simplify(*after, true);
  runtime::Interpreter a(*before), b(*after);
  for (runtime::Interpreter *e : {&a, &b}) {
    e->set("x", testutil::randomF32({2, 3, 4}, 7));
    e->set("i", testutil::i32({5}, {0, 7, 3, 3, 1}));
    e->run();
  }
  for (const char *name : {"t", "shift"})
    CHECK(a.output(name).data == b.output(name).data);
}
