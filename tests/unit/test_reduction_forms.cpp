//===- tests/unit/test_reduction_forms.cpp - Sums as split contractions ----===//
//
// passes::formReductions() on IR text: a reduce_sum and a scatter_add that
// sums over the axes it does not place become contractions of one factor; a
// large sum into a few rows is split into partial sums over slices of its
// outermost summed variable; small sums, sums with enough rows, and
// scatters that shift or gather stay; a contraction with nothing to sum
// becomes a remap. The rewritten graph computes the same
// values in the interpreter.
//
//===----------------------------------------------------------------------===//
#include "InterpreterTestUtil.h"
#include "ir/IRParser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/DeadCode.h"
#include "passes/ReductionForms.h"

#include <doctest/doctest.h>

#include <cmath>
#include <sstream>

using namespace gradc;

namespace {

std::unique_ptr<ir::Graph> parse(const std::string &text, SourceManager &sm) {
  std::ostringstream os;
  DiagnosticEngine diags(sm, &os);
  auto g = ir::parseGraph(text, "r.ir", sm, diags);
  REQUIRE_MESSAGE(g, os.str());
  return g;
}

bool has(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

const char *kSums = R"(graph @m training=0 {
  %x = input "x" : f32[32,16,16,8]
  %y = input "y" : f32[32,16,16,8]
  %sq = mul %x, %y : f32[32,16,16,8]
  %mean = reduce_sum %sq axes=[0,1,2] : f32[8]
  %bias = scatter_add %y -> [d3] : f32[8]
  %rows = reduce_sum %x axes=[1,2] : f32[32,8]
  %last = reduce_sum %x axes=[3] : f32[32,16,16]
  %shift = scatter_add %y -> [d0, d1 + 1, d2, d3] : f32[32,17,16,8]
  %spread = contract %mean[d3] : f32[32,16,16,8]
  %back = add %x, %spread : f32[32,16,16,8]
  output "mean" = %mean
  output "bias" = %bias
  output "rows" = %rows
  output "last" = %last
  output "shift" = %shift
  output "back" = %back
}
)";

} // namespace

TEST_CASE("sums become contractions, split into partial sums when they have few rows") {
  SourceManager sm;
  auto g = parse(kSums, sm);
  // Four sums made contractions, two of them split, one broadcast a remap.
  CHECK(passes::formReductions(*g) == 7);
  passes::eliminateDeadCode(*g);
  CHECK(ir::verifyGraph(*g).empty());
  std::string out = ir::printGraph(*g, nullptr);
  // Σ over b, x, y into 8 channels: 16 partial sums over slices of b, then
  // their sum.
  CHECK(has(out, "contract %sq[2*d0 + r0, r1, r2, d1] r=[2,16,16] : f32[16,8]"));
  CHECK(has(out, "%mean = contract"));
  CHECK(has(out, "contract %y[2*d0 + r0, r1, r2, d1] r=[2,16,16] : f32[16,8]"));
  // 32 rows of 8 are enough to share among threads: one contraction.
  CHECK(has(out, "%rows = contract %x[d0, r0, r1, d1] r=[16,16] : f32[32,8]"));
  // A sum over the innermost axis stays a contraction summing innermost.
  CHECK(has(out, "%last = contract %x[d0, d1, d2, r0] r=[8] : f32[32,16,16]"));
  // A scatter that shifts is not a sum.
  CHECK(has(out, "%shift = scatter_add"));
  // A contraction with nothing to sum is the broadcast it is.
  CHECK(has(out, "%spread = remap %mean[d3] : f32[32,16,16,8]"));
}

TEST_CASE("the rewritten sums compute the same values") {
  SourceManager sm;
  auto before = parse(kSums, sm), after = parse(kSums, sm);
  passes::formReductions(*after);
  passes::eliminateDeadCode(*after);
  runtime::Interpreter a(*before), b(*after);
  for (runtime::Interpreter *e : {&a, &b}) {
    e->set("x", testutil::randomF32({32, 16, 16, 8}, 3));
    e->set("y", testutil::randomF32({32, 16, 16, 8}, 4));
    e->run();
  }
  for (const char *name : {"mean", "bias", "rows", "last", "shift", "back"}) {
    INFO(name);
    const auto &u = a.output(name).data, &v = b.output(name).data;
    REQUIRE(u.size() == v.size());
    for (size_t k = 0; k < u.size(); ++k)
      CHECK(std::fabs(u[k] - v[k]) <= 1e-9 * (1 + std::fabs(u[k])));
  }
}
