//===- tests/unit/test_compose_remaps.cpp - Folding chains of remaps -------===//
//
// composeRemaps() folds remap(remap(x)) into one remap when every position
// the outer one reads lies inside the intermediate, and leaves the chain
// alone when the outer one reads the intermediate's zero padding.
//
//===----------------------------------------------------------------------===//
#include "ir/IRParser.h"
#include "ir/Printer.h"
#include "passes/ComposeRemaps.h"
#include "passes/DeadCode.h"

#include <doctest/doctest.h>

#include <sstream>

using namespace gradc;

namespace {

std::string composed(const std::string &text, int &n) {
  SourceManager sm;
  std::ostringstream os;
  DiagnosticEngine diags(sm, &os);
  auto g = ir::parseGraph(text, "c.ir", sm, diags);
  REQUIRE_MESSAGE(g, os.str());
  n = passes::composeRemaps(*g);
  passes::eliminateDeadCode(*g);
  return ir::printGraph(*g, &sm);
}

} // namespace

TEST_CASE("a read of the last step through a shifted view names that step") {
  int n = 0;
  std::string out = composed(R"(graph @m training=0 {
  %h.ext = input "h" : f32[2,6,3]
  %h = remap %h.ext[d0, d1 + 1, d2] : f32[2,5,3]
  %last = remap %h[d0, 4, d1] : f32[2,3]
  %flip = remap %last[d1, d0] : f32[3,2]
  output "flip" = %flip
}
)", n);
  CHECK(n == 2);
  CHECK(out.find("%flip = remap %h.ext[d1, 5, d0] : f32[3,2]") != std::string::npos);
  CHECK(out.find("%last") == std::string::npos); // dead once folded
}

TEST_CASE("a chain whose outer read reaches the padding stays as it is") {
  int n = 0;
  std::string out = composed(R"(graph @m training=0 {
  %x = input "x" : f32[6]
  %mid = remap %x[d0 + 1] : f32[4]
  %pad = remap %mid[d0 - 1] : f32[6]
  %stride = remap %x[2*d0] : f32[3]
  %pick = remap %stride[2 - d0] : f32[3]
  output "pad" = %pad
  output "pick" = %pick
}
)", n);
  CHECK(n == 1); // %pad reads %mid at -1 and 4..: its zeros are not %x's
  CHECK(out.find("%pad = remap %mid[d0 - 1]") != std::string::npos);
  CHECK(out.find("%pick = remap %x[-2*d0 + 4] : f32[3]") != std::string::npos);
}

TEST_CASE("affineRange spans the loop box") {
  ir::Affine a{3, {{0, 2}, {1, -1}}};
  auto [lo, hi] = passes::affineRange(a, {4, 5});
  CHECK(lo == 3 - 4);
  CHECK(hi == 3 + 6);
}
