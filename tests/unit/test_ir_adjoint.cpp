//===- tests/unit/test_ir_adjoint.cpp - The IR forms autodiff writes ------===//
//
// scatter_add, contracts with an output map, tensors carried whole (axis
// -1) and whole yields: their text form reads back exactly, and the
// verifier and the parser reject each broken invariant with its message.
//
//===----------------------------------------------------------------------===//
#include "ir/Builder.h"
#include "ir/IRParser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

#include <doctest/doctest.h>

#include <sstream>

using namespace gradc;
using namespace gradc::ir;

namespace {

AxisIndex ax(Affine a) { return AxisIndex{std::move(a), -1, {}}; }
Affine d(int v, int64_t c = 1) { return Affine::var(v, c); }
Affine plus(Affine a, int64_t k) {
  a.constant += k;
  return a;
}

std::unique_ptr<Graph> parse(const std::string &text, SourceManager &sm, std::string &err) {
  std::ostringstream os;
  DiagnosticEngine diags(sm, &os);
  auto g = parseGraph(text, "adj.ir", sm, diags);
  err = os.str();
  return g;
}

bool mentions(const std::vector<std::string> &msgs, const std::string &part) {
  for (auto &m : msgs)
    if (m.find(part) != std::string::npos)
      return true;
  return false;
}

/// The new forms, written canonically: printing the parsed graph gives the
/// text back byte for byte.
const char *kCanonical = R"(graph @adjoint training=1 {
  %x = input "x" : f32[2,5,3]
  %tok = input "tok" : i32[2,4]
  %E = param "E" normal(0.1) : f32[10,3]
  %W = param "W" he(fan_in=3) : f32[3,3,4]
  %emb = remap %E[%tok[d0, d1], d2] : f32[2,4,3]
  %g.E = bwd scatter_add %emb -> [%tok[d0, d1], d2] : f32[10,3]
  %g.prev = bwd scatter_add %emb -> [%tok[d0, d1 - 1] + 1, d2] : f32[10,3]
  %g.x = bwd scatter_add %x -> [d0, 2*d1 - 1, d2] : f32[2,9,3]
  %g.sum = bwd scatter_add %x -> [d2] : f32[3]
  %y = contract %x[d0, d1 + r0 - 1, r1], %W[r0, r1, d2] r=[3,3] : f32[2,5,4]
  %g.xc = bwd contract %y[r0, r1, r4], %W[r2, r3, r4] r=[2,5,3,3,4] -> [r0, r1 + r2 - 1, r3] : f32[2,5,3]
  %s = bwd contract %x[r0, r1, r2] r=[2,5,3] -> [r2, 2] : f32[3,4]
  %acc.init = constant 0 : f32[3,4]
  %h.init = constant 0 : f32[2,6,3]
  %acc, %h = bwd recurrence steps=5 reverse (%acc.init axis=-1 offset=0, %h.init axis=1 offset=1) args(%t, %acc.c, %h.c) {
    %xt = bwd remap %x[d0, %t, d1] : f32[2,3]
    %part = bwd contract %xt[r0, r1], %W[1, r1, r2] r=[2,3,4] -> [r1, r2] : f32[3,4]
    %gt = bwd scatter_add %xt -> [d0, %t + 1, d1] : f32[2,6,3]
    %ht = bwd remap %gt[d0, %t, d1] : f32[2,3]
    bwd yield %acc.c -> 0 whole set, %part -> 0 whole add, %ht -> 1 delta=-1 add
  } : f32[3,4], f32[2,6,3]
  output "acc" = %acc
}
)";

} // namespace

TEST_CASE("scatter_add, output maps and whole yields read back exactly") {
  SourceManager sm;
  std::string err;
  auto g = parse(kCanonical, sm, err);
  INFO(err);
  REQUIRE(g);
  CHECK(verifyGraph(*g).empty());
  CHECK(printGraph(*g, &sm) == kCanonical);

  // The parsed attributes are what the text says.
  Op *gE = g->findValue("g.E")->def;
  CHECK(gE->kind == OpKind::ScatterAdd);
  REQUIRE(gE->operands.size() == 2);
  CHECK(gE->operands[1] == g->findValue("tok"));
  CHECK(gE->maps[0][0].indirect == 1);
  CHECK(gE->numLoops() == 3); // the source's axes
  Op *gxc = g->findValue("g.xc")->def;
  CHECK(gxc->numLoops() == 5);
  REQUIRE(gxc->outMap.size() == 3);
  CHECK(gxc->outMap[1].pos == plus(d(1).plus(d(2)), -1)); // r1 + r2 - 1, numbered from 0
  CHECK(gxc->maps[1][2].pos == d(4));
  CHECK(g->findValue("s")->def->outMap[1].pos == Affine::constantOf(2));
  Op *rec = g->findValue("acc")->def;
  CHECK(rec->carried[0].axis == -1);
  const Op &y = *rec->body->ops.back();
  REQUIRE(y.yields.size() == 3);
  CHECK((y.yields[0].whole && !y.yields[0].accumulate));
  CHECK((y.yields[1].whole && y.yields[1].accumulate));
  CHECK((!y.yields[2].whole && y.yields[2].delta == -1));
}

TEST_CASE("the printed forms are canonical") {
  // Terms in any order read back and print in canonical order.
  const char *text = R"(graph @g training=0 {
  %a = input "a" : f32[4,5]
  %b = input "b" : f32[5,6]
  %c = contract %a[r0, r2], %b[r2, r1] r=[4,6,5] -> [r1 + r0 - 1, r2] : f32[8,5]
  %s = scatter_add %a -> [-d0 + 3, 1 + d1] : f32[4,6]
}
)";
  SourceManager sm;
  std::string err;
  auto g = parse(text, sm, err);
  INFO(err);
  REQUIRE(g);
  std::string out = printGraph(*g, &sm);
  CHECK(
      out.find("%c = contract %a[r0, r2], %b[r2, r1] r=[4,6,5] -> [r0 + r1 - 1, r2] : f32[8,5]") !=
      std::string::npos);
  CHECK(out.find("%s = scatter_add %a -> [-d0 + 3, d1 + 1] : f32[4,6]") != std::string::npos);
}

namespace {

/// A graph with each new form, for the verifier to reject once broken.
struct Fixture {
  Graph g;
  Value *x, *tok, *emb, *gE, *gx, *conv, *gConv;
  Op *rec;

  Fixture() {
    Builder b(g);
    x = b.leaf(OpKind::Input, "x", TensorType::f32({2, 5, 3}));
    tok = b.leaf(OpKind::Input, "tok", TensorType::i32({2, 4}));
    Value *E = b.leaf(OpKind::Param, "E", TensorType::f32({10, 3}));
    Value *W = b.leaf(OpKind::Param, "W", TensorType::f32({3, 4}));
    AxisIndex byTok{Affine{}, 1, {d(0), d(1)}};
    emb = b.remap(E, {byTok, ax(d(2))}, {2, 4, 3}, {tok});
    gE = b.scatterAdd(emb, {byTok, ax(d(2))}, {10, 3}, {tok});
    gx = b.scatterAdd(x, {ax(d(0)), ax(plus(d(1), -1)), ax(d(2))}, {2, 4, 3});
    conv =
        b.contract({x, W}, {{ax(d(0)), ax(d(1)), ax(d(3))}, {ax(d(3)), ax(d(2))}}, {2, 5, 4}, {3});
    gConv = b.contractInto({conv, W}, {{ax(d(0)), ax(d(1)), ax(d(2))}, {ax(d(3)), ax(d(2))}},
                           {ax(d(0)), ax(d(1)), ax(d(3))}, {2, 5, 3}, {2, 5, 4, 3});
    rec = b.recurrence({b.constant(0, {3, 4}), b.constant(0, {2, 5, 4})}, {{-1, 0}, {1, 0}}, 5,
                       false);
    b.setRegion(rec->body.get());
    Value *ct = b.remap(conv, {ax(d(0)), ax(Affine::var(Affine::symbolVar(0))), ax(d(1))}, {2, 4},
                        {}, {rec->body->args[0]});
    b.yield({W, ct}, {{0, 0, true, true}, {1, 0, false, false}});
    b.setRegion(&g.top);
  }
  Op &yieldOp() { return *rec->body->ops.back(); }
};

} // namespace

TEST_CASE("the verifier checks the new forms' invariants") {
  {
    Fixture f;
    INFO(printGraph(f.g, nullptr));
    CHECK(verifyGraph(f.g).empty());
  }
  struct Case {
    const char *expect;
    void (*breakIt)(Fixture &);
  };
  const Case cases[] = {
      {"the map has 2 axes; the result has rank 3",
       [](Fixture &f) { f.gx->def->maps[0].pop_back(); }},
      {"loop variable d3 out of range: the op has 3 loop variables",
       [](Fixture &f) { f.gx->def->maps[0][2].pos = d(3); }},
      {"symbol number 0 out of range",
       [](Fixture &f) { f.gx->def->maps[0][2].pos = Affine::var(Affine::symbolVar(0)); }},
      {"operand %tok must be f32", [](Fixture &f) { f.gx->def->operands[0] = f.tok; }},
      {"indirect operand %x must be i32", [](Fixture &f) { f.gE->def->operands[1] = f.x; }},
      {"is not read by the map", [](Fixture &f) { f.gx->def->operands.push_back(f.tok); }},
      {"indirect read of %tok has 1 positions for rank 2",
       [](Fixture &f) { f.gE->def->maps[0][0].indirectAt.pop_back(); }},
      {"scatter_add takes one map, has 2",
       [](Fixture &f) { f.gx->def->maps.push_back(f.gx->def->maps[0]); }},
      {"is not f32",
       [](Fixture &f) {
         f.gx->type = TensorType::i32({2, 4, 3});
       }},
      {"has no operands", [](Fixture &f) { f.gx->def->operands.clear(); }},
      {"the output map has 2 axes; the result has rank 3",
       [](Fixture &f) { f.gConv->def->outMap.pop_back(); }},
      {"loop variable r4 out of range: the op has 4 loop variables",
       [](Fixture &f) { f.gConv->def->outMap[2].pos = d(4); }},
      {"indirect index in a contract (the output map)",
       [](Fixture &f) {
         f.gConv->def->outMap[0] = AxisIndex{Affine{}, 1, {d(0)}};
       }},
      {"indirect index in a contract (the map of operand %",
       [](Fixture &f) {
         f.gConv->def->maps[0][0] = AxisIndex{Affine{}, 1, {d(0)}};
       }},
      {"only a contract has an output map", [](Fixture &f) { f.gx->def->outMap = {ax(d(0))}; }},
      {"its offset must be 0, not 1", [](Fixture &f) { f.rec->carried[0].offset = 1; }},
      {"axis -2 out of range for rank 2", [](Fixture &f) { f.rec->carried[0].axis = -2; }},
      {"carried 0 is carried whole (axis=-1) and only takes whole yields",
       [](Fixture &f) { f.yieldOp().yields[0].whole = false; }},
      {"its delta must be 0, not -1", [](Fixture &f) { f.yieldOp().yields[0].delta = -1; }},
      {"operand %x has type f32[2,5,3]; a whole yield into carried 0 writes f32[3,4]",
       [](Fixture &f) { f.yieldOp().operands[0] = f.x; }},
      {"a whole yield into carried 1 writes f32[2,5,4]",
       [](Fixture &f) { f.yieldOp().yields[1].whole = true; }},
      {"carried 1 takes slices of f32[2,4]",
       [](Fixture &f) { f.yieldOp().operands[1] = f.yieldOp().operands[0]; }},
  };
  for (const Case &c : cases) {
    Fixture f;
    c.breakIt(f);
    auto msgs = verifyGraph(f.g);
    std::string all;
    for (auto &m : msgs)
      all += m + "\n";
    INFO("expected: " << std::string(c.expect) << "\ngot:\n" << all);
    CHECK(mentions(msgs, c.expect));
  }
}

TEST_CASE("the parser rejects broken new forms at the right place") {
  auto graph = [](const std::string &body) {
    return "graph @g training=0 {\n  %x = input \"x\" : f32[2,3]\n  %k = input \"k\" : i32[2]\n" +
           body + "}\n";
  };
  struct Case {
    std::string body, expect;
  };
  const Case cases[] = {
      {"  %a = contract %x[d0, r0] r=[3] -> [r0] : f32[3]\n",
       "adj.ir:4:20: error: loop variable d0 in a contract with an output map"},
      {"  %a = contract %x[r0, r1] r=[2,3] -> [%k[r0]] : f32[3]\n",
       "adj.ir:4:40: error: an indirect index may only appear in the map of a remap or "
       "scatter_add"},
      {"  %a = contract %x[r0, r1] r=[2,3] -> [r2] : f32[3]\n",
       "reduction variable r2 out of range: 2 reduction sizes given"},
      {"  %a = contract %x[r0, r1] r=[2,3] -> [r1] : f32[3,2]\n",
       "the output map has 1 axes; the result has rank 2"},
      {"  %a = scatter_add %x -> [d2] : f32[5]\n",
       "adj.ir:4:27: error: loop variable d2 out of range for source rank 2"},
      {"  %a = scatter_add %x -> [r0] : f32[5]\n", "reduction variable r0 outside a contract"},
      {"  %a = scatter_add %x -> [d0] : f32[2,3]\n", "the map has 1 axes; the result has rank 2"},
      {"  %a = scatter_add %x [d0] : f32[2]\n", "adj.ir:4:23: error: expected '->', found '['"},
      {"  %a = scatter_add %k -> [d0] : f32[2]\n", "operand %k must be f32, not i32[2]"},
      {"  %a = scatter_add %x -> [d0, d1] : i32[2,3]\n", "result type i32[2,3] is not f32"},
      {"  %a = scatter_add %x -> [%x[d0], d1] : f32[2,3]\n", "indirect operand %x must be i32"},
      {"  %r = recurrence steps=3 forward (%x axis=-1 offset=1) args(%t, %c) {\n"
       "    yield %c -> 0 whole set\n  } : f32[2,3]\n",
       "offset must be 0, not 1"},
      {"  %r = recurrence steps=3 forward (%x axis=-1 offset=0) args(%t, %c) {\n"
       "    %a = remap %c[d0, %t] : f32[2]\n    yield %a -> 0 add\n  } : f32[2,3]\n",
       "adj.ir:6:5: error: carried 0 is carried whole (axis=-1) and only takes whole yields"},
      {"  %r = recurrence steps=3 forward (%x axis=1 offset=0) args(%t, %c) {\n"
       "    %a = remap %c[d0, %t] : f32[2]\n    yield %a -> 0 whole add\n  } : f32[2,3]\n",
       "a whole yield into carried 0 writes f32[2,3]"},
      {"  %r = recurrence steps=3 forward (%x axis=-1 offset=0) args(%t, %c) {\n"
       "    yield %c -> 0 delta=1 whole add\n  } : f32[2,3]\n",
       "its delta must be 0, not 1"},
      {"  %r = recurrence steps=3 forward (%x axis=-1 offset=0) args(%t, %c) {\n"
       "    yield %c -> 0 whole\n  } : f32[2,3]\n",
       "expected 'set' or 'add', found '}'"},
  };
  for (const Case &c : cases) {
    SourceManager sm;
    std::string err;
    auto g = parse(graph(c.body), sm, err);
    INFO(c.body);
    INFO(err);
    CHECK(!g);
    CHECK(err.find(c.expect) != std::string::npos);
  }
}
