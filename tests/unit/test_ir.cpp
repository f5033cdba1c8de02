//===- tests/unit/test_ir.cpp - IR printer, parser, verifier, DOT writer --===//
//
// A graph with every op kind (recurrences that accumulate and nest, indirect
// remaps, symbols, backward ops) must print, parse and print again to the
// same text and pass the verifier; broken graphs and broken IR text must be
// rejected with the expected message.
//
//===----------------------------------------------------------------------===//
#include "ir/Builder.h"
#include "ir/DotWriter.h"
#include "ir/IRParser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

using namespace gradc;
using namespace gradc::ir;

namespace {

TensorType f32(std::vector<int64_t> s) { return TensorType::f32(std::move(s)); }
TensorType i32(std::vector<int64_t> s) { return TensorType::i32(std::move(s)); }

AxisIndex ax(Affine a) { return AxisIndex{std::move(a), -1, {}}; }
Affine d(int v, int64_t c = 1) { return Affine::var(v, c); }
Affine sym(int s, int64_t c = 1) { return Affine::var(Affine::symbolVar(s), c); }
Affine plus(Affine a, int64_t k) {
  a.constant += k;
  return a;
}

/// A graph with every op kind. Values get readable names where a test
/// looks for them in the printed text.
std::unique_ptr<Graph> buildAllOps(SourceManager &sm) {
  auto g = std::make_unique<Graph>();
  g->modelName = "all_ops";
  g->training = true;
  uint32_t file = sm.addFile("models/m.grad", "model m\n");
  Builder b(*g);
  b.setLoc({file, 3, 3});
  Value *x = b.leaf(OpKind::Input, "x", f32({4, 6, 8}));
  Value *tok = b.leaf(OpKind::Input, "tok", i32({4, 6}));
  Value *W = b.leaf(OpKind::Param, "W", f32({8, 8}), {InitSpec::He, 0, 0, 8, 0});
  Value *E = b.leaf(OpKind::Param, "E", f32({10, 8}), {InitSpec::Normal, 0.02, 0, 0, 0});
  b.leaf(OpKind::Param, "U", f32({8}), {InitSpec::Uniform, -0.1, 0.1, 0, 0});
  b.leaf(OpKind::Param, "X", f32({8, 4}), {InitSpec::Xavier, 0, 0, 8, 4});
  b.leaf(OpKind::Param, "L", f32({8}), {InitSpec::Lecun, 0, 0, 8, 0});
  b.leaf(OpKind::Param, "C", f32({8}), {InitSpec::Constant, 1.0 / 3, 0, 0, 0});
  b.leaf(OpKind::Param, "O", f32({8}), {InitSpec::Ones, 0, 0, 0, 0});
  Value *m = b.leaf(OpKind::State, "m", f32({8}), {InitSpec::Zeros, 0, 0, 0, 0});
  Value *eps = b.leaf(OpKind::Noise, "a b\"c", f32({4, 8}), {InitSpec::Normal, 1, 0, 0, 0});
  b.setLoc({file, 4, 7});
  Value *c = b.constant(0.1);
  b.constant(-2.5e-12, {4, 8});
  b.iota({4, 5}, 1);

  // Elementwise.
  Value *y = eps;
  for (OpKind k : {OpKind::Neg, OpKind::Exp, OpKind::Log, OpKind::Sqrt, OpKind::Rsqrt, OpKind::Abs,
                   OpKind::Tanh, OpKind::Sigmoid, OpKind::Relu, OpKind::Softplus, OpKind::Sin,
                   OpKind::Cos, OpKind::StopGrad})
    y = b.unary(k, y);
  y = b.powc(y, 1.0 / 3);
  for (OpKind k : {OpKind::Add, OpKind::Sub, OpKind::Mul, OpKind::Div, OpKind::Max, OpKind::Min,
                   OpKind::LeakyRelu, OpKind::Lt, OpKind::Le, OpKind::Gt, OpKind::Ge, OpKind::Ne})
    y = b.binary(k, y, k == OpKind::Mul ? c : eps);
  Value *isPad = b.binary(OpKind::Eq, tok, b.constant(0));
  b.where(isPad, b.constant(1, {4, 6}), b.constant(0, {4, 6}));

  // Layout ops and gathers.
  b.name(b.remap(W, {ax(d(1)), ax(d(0))}, {8, 8}), "WT");
  b.name(b.remap(x, {ax(d(0)), ax(plus(d(1, 2), 1)), ax(d(2))}, {4, 3, 8}), "strided");
  Value *padded = b.remap(x, {ax(d(0)), ax(plus(d(1), -1)), ax(d(2))}, {4, 8, 8});
  b.name(padded, "padded");
  b.name(b.remap(m, {ax(d(1))}, {4, 8}), "bcast");
  AxisIndex gatherAx{Affine::constantOf(1), 1, {d(0), d(1)}};
  Value *gather = b.remap(E, {gatherAx, ax(d(2))}, {4, 6, 8}, {tok});
  b.name(gather, "gather");
  b.remap(tok, {ax(d(0)), ax(Affine::constantOf(0))}, {4});

  // Contractions: matmul, a convolution-like window, three factors.
  b.contract({x, W}, {{ax(d(0)), ax(d(1)), ax(d(3))}, {ax(d(3)), ax(d(2))}}, {4, 6, 8}, {8});
  Affine window = plus(d(1, 2), -1).plus(d(3));
  Value *conv = b.contract({x, W}, {{ax(d(0)), ax(window), ax(d(4))}, {ax(d(4)), ax(d(2))}},
                           {4, 3, 8}, {3, 8});
  b.name(conv, "conv");
  b.contract({eps, eps, m}, {{ax(d(0)), ax(d(1))}, {ax(d(0)), ax(d(1))}, {ax(d(1))}}, {4, 8}, {});

  // Adjoints, as autodiff writes them: scatter_add through the gather's and
  // the padding's maps, and the convolution's input gradient as a contract
  // with an output map (loops b, o, c, k, i: those of %conv).
  b.name(b.scatterAdd(gather, {gatherAx, ax(d(2))}, {10, 8}, {tok}), "gather.adj");
  b.name(b.scatterAdd(padded, {ax(d(0)), ax(plus(d(1), -1)), ax(d(2))}, {4, 6, 8}), "padded.adj");
  b.name(b.contractInto({conv, W}, {{ax(d(0)), ax(d(1)), ax(d(2))}, {ax(d(4)), ax(d(2))}},
                        {ax(d(0)), ax(window), ax(d(4))}, {4, 6, 8}, {4, 3, 8, 3, 8}),
         "conv.adj");

  // Reductions and normalizations.
  Value *s = b.reduce(OpKind::ReduceSum, gather, {2, 0});
  for (OpKind k : {OpKind::ReduceMax, OpKind::ReduceMin, OpKind::LogSumExp})
    b.reduce(k, gather, {1});
  Value *am = b.reduce(OpKind::ArgMax, gather, {2});
  b.normalize(OpKind::Softmax, x, {2});
  b.normalize(OpKind::LogSoftmax, x, {1, 2});

  // A recurrence along axis 1 of x: h carried with one boundary position,
  // G accumulated, and a nested recurrence using both step variables.
  b.setLoc({file, 9, 5});
  Value *hb = b.leaf(OpKind::Param, "h0", f32({4, 1, 8}));
  Value *hInit = b.remap(hb, identityMap(3), {4, 7, 8});
  b.name(hInit, "h.init");
  Value *gInit = b.constant(0, {4, 6, 8});
  Op *rec = b.recurrence({hInit, gInit}, {{1, 1}, {1, 0}}, 6, false);
  b.setRegion(rec->body.get());
  Value *t = rec->body->args[0];
  Value *hC = rec->body->args[1];
  Value *xt = b.remap(x, {ax(d(0)), ax(sym(0)), ax(d(1))}, {4, 8}, {}, {t});
  Value *hPrev = b.remap(hC, {ax(d(0)), ax(sym(0)), ax(d(1))}, {4, 8}, {}, {t});
  Value *z = b.contract({hPrev, W}, {{ax(d(0)), ax(d(2))}, {ax(d(2)), ax(d(1))}}, {4, 8}, {8});
  AxisIndex stepGather{sym(0), 1, {d(0), sym(0)}};
  Value *emb = b.remap(E, {stepGather, ax(d(1))}, {4, 8}, {tok}, {t});
  Value *hn = b.unary(OpKind::Tanh, b.binary(OpKind::Add, b.binary(OpKind::Add, z, xt), emb));
  b.name(hn, "hn");
  Op *inner = b.recurrence({b.constant(0, {4, 3})}, {{1, 0}}, 3, true);
  b.setRegion(inner->body.get());
  Value *t2 = inner->body->args[0];
  Affine both = sym(1).plus(sym(0, -1));
  Value *xi = b.remap(x, {ax(d(0)), ax(sym(0)), ax(both)}, {4}, {}, {t, t2});
  b.yield({xi}, {{0, 0, false}});
  b.setRegion(rec->body.get());
  b.yield({hn, hn}, {{0, 0, false}, {1, 0, true}});
  b.setRegion(&g->top);
  Value *hAll = rec->result(0);
  b.name(hAll, "h");
  b.name(rec->result(1), "G");

  // A reversed recurrence of backward ops, accumulating one step back.
  b.setBackward(true);
  b.setLoc({file, 12, 1});
  Op *back = b.recurrence({b.constant(0, {4, 7, 8})}, {{1, 1}}, 6, true);
  b.setRegion(back->body.get());
  Value *gh = b.remap(back->body->args[1], {ax(d(0)), ax(plus(sym(0), 1)), ax(d(1))}, {4, 8}, {},
                      {back->body->args[0]});
  b.yield({b.unary(OpKind::Neg, gh)}, {{0, -1, true}});
  b.setRegion(&g->top);
  b.name(back->result(0), "grad.h");

  // A weight gradient accumulated over the steps in a tensor carried whole
  // (axis -1), set and added in one yield, next to a sliced carried tensor.
  Value *accInit = b.constant(0, {8, 8});
  b.name(accInit, "acc.init");
  Op *acc = b.recurrence({accInit, b.constant(0, {4, 6, 8})}, {{-1, 0}, {1, 0}}, 6, true);
  b.setRegion(acc->body.get());
  Value *xs = b.remap(x, {ax(d(0)), ax(sym(0)), ax(d(1))}, {4, 8}, {}, {acc->body->args[0]});
  Value *outer = b.contract({xs, xs}, {{ax(d(2)), ax(d(0))}, {ax(d(2)), ax(d(1))}}, {8, 8}, {4});
  b.yield({W, outer, xs}, {{0, 0, false, true}, {0, 0, true, true}, {1, 0, false, false}});
  b.setRegion(&g->top);
  b.name(acc->result(0), "grad.W");
  b.setBackward(false);

  Value *loss = b.reduce(OpKind::ReduceSum, s, {0});
  b.name(loss, "loss");
  Value *mNew = b.binary(OpKind::Mul, m, c);
  g->outputs.push_back({"h", hAll, {file, 20, 3}});
  g->outputs.push_back({"argmax", am, {}});
  g->loss = {"loss", loss, {file, 21, 3}};
  g->metrics.push_back({"acc", loss, {}});
  g->updates.push_back({m, mNew, {file, 22, 3}});
  g->gradients.push_back({"grad.h", back->result(0), {}});
  return g;
}

std::unique_ptr<Graph> parseOk(const std::string &text, SourceManager &sm) {
  std::ostringstream err;
  DiagnosticEngine diags(sm, &err);
  auto g = parseGraph(text, "test.ir", sm, diags);
  INFO(err.str());
  REQUIRE(g);
  return g;
}

/// Parses text that must be rejected; returns the rendered diagnostics.
std::string parseError(const std::string &text) {
  SourceManager sm;
  std::ostringstream err;
  DiagnosticEngine diags(sm, &err);
  auto g = parseGraph(text, "bad.ir", sm, diags);
  CHECK(!g);
  CHECK(diags.hasErrors());
  return err.str();
}

bool mentions(const std::vector<std::string> &msgs, const std::string &part) {
  for (auto &m : msgs)
    if (m.find(part) != std::string::npos)
      return true;
  return false;
}

/// The first op of `g`'s top level with kind `k`.
Op *firstOp(Graph &g, OpKind k) {
  for (auto &op : g.top.ops)
    if (op->kind == k)
      return op.get();
  return nullptr;
}

} // namespace

TEST_CASE("every op kind prints, parses and prints again identically") {
  SourceManager sm;
  auto g = buildAllOps(sm);
  CHECK(verifyGraph(*g).empty());
  std::string text = printGraph(*g, &sm);
  INFO(text);
  SourceManager sm2;
  auto g2 = parseOk(text, sm2);
  CHECK(verifyGraph(*g2).empty());
  CHECK(printGraph(*g2, &sm2) == text);
  // Locations point back into the model file, registered by path.
  CHECK(sm2.find("models/m.grad") != 0);
  // The parsed graph has the same shape as the built one.
  CHECK(g2->values().size() == g->values().size());
  CHECK(g2->updates.size() == 1);
  CHECK(g2->updates[0].state->def->kind == OpKind::State);
  CHECK(g2->training);
}

TEST_CASE("the text shows names, maps, attributes, types and locations") {
  SourceManager sm;
  auto g = buildAllOps(sm);
  std::string text = printGraph(*g, &sm);
  auto has = [&](const std::string &s) {
    INFO(s);
    CHECK(text.find(s) != std::string::npos);
  };
  has("graph @all_ops training=1 {\n");
  has("  %x = input \"x\" : f32[4,6,8] loc(\"models/m.grad\":3:3)\n");
  has("%W = param \"W\" he(fan_in=8) : f32[8,8]");
  has("%U = param \"U\" uniform(-0.1, 0.1) : f32[8]");
  has("%C = param \"C\" constant(0.3333333333333333) : f32[8]");
  has("%X = param \"X\" xavier(fan_in=8, fan_out=4)");
  has("%\"a b\\\"c\" = noise \"a b\\\"c\" normal(1) : f32[4,8]");
  has(" = constant 0.1 : f32[] loc(\"models/m.grad\":4:7)");
  has(" = constant -2.5e-12 : f32[4,8]");
  has(" = iota axis=1 : i32[4,5]");
  has(" = powc %");
  has(" ^ 0.3333333333333333 : f32[4,8]");
  has("%WT = remap %W[d1, d0] : f32[8,8]");
  has("%strided = remap %x[d0, 2*d1 + 1, d2] : f32[4,3,8]");
  has("%padded = remap %x[d0, d1 - 1, d2] : f32[4,8,8]");
  has("%gather = remap %E[%tok[d0, d1] + 1, d2] : f32[4,6,8]");
  has("%conv = contract %x[d0, 2*d1 + r0 - 1, r1], %W[r1, d2] r=[3,8] : f32[4,3,8]");
  has("%gather.adj = scatter_add %gather -> [%tok[d0, d1] + 1, d2] : f32[10,8]");
  has("%padded.adj = scatter_add %padded -> [d0, d1 - 1, d2] : f32[4,6,8]");
  has("%conv.adj = contract %conv[r0, r1, r2], %W[r4, r2] r=[4,3,8,3,8] -> "
      "[r0, 2*r1 + r3 - 1, r4] : f32[4,6,8]");
  has(" = bwd recurrence steps=6 reverse (%acc.init axis=-1 offset=0, %");
  has("bwd yield %W -> 0 whole set, %");
  has(" -> 0 whole add, %");
  has("= reduce_sum %gather axes=[0,2] : f32[6]");
  has("= argmax %gather axes=[2] : i32[4,6]");
  has("%h, %G = recurrence steps=6 forward (%h.init axis=1 offset=1, ");
  has(" axis=1 offset=0) args(%t, %h.init.carried, ");
  has("    %hn = tanh %");
  has("remap %E[%tok[d0, %t] + %t, d1] : f32[4,8]");
  has("remap %x[d0, %t, -%t + %t.1] : f32[4]");
  has("      yield %");
  has(" -> 0 set loc(");
  has("    yield %hn -> 0 set, %hn -> 1 add loc(");
  has("  } : f32[4,7,8], f32[4,6,8] loc(\"models/m.grad\":9:5)\n");
  has("%grad.h = bwd recurrence steps=6 reverse (");
  has(" = bwd neg %");
  has("bwd yield %");
  has(" -> 0 delta=-1 add");
  has("  output \"h\" = %h loc(\"models/m.grad\":20:3)\n");
  has("  minimize \"loss\" = %loss loc(\"models/m.grad\":21:3)\n");
  has("  metric \"acc\" = %loss\n");
  has("  update %m = %");
  has("  gradient \"grad.h\" = %grad.h\n}\n");
  // Without a SourceManager there are no locations.
  CHECK(printGraph(*g, nullptr).find("loc(") == std::string::npos);
}

TEST_CASE("numbers print in their shortest exact form") {
  CHECK(formatDouble(1) == "1");
  CHECK(formatDouble(0.1) == "0.1");
  CHECK(formatDouble(-2.5) == "-2.5");
  CHECK(formatDouble(1e-8) == "1e-08");
  CHECK(formatDouble(INFINITY) == "inf");
  CHECK(formatDouble(-INFINITY) == "-inf");
  CHECK(formatDouble(NAN) == "nan");
  CHECK(formatDouble(1000) == "1000");
  CHECK(formatDouble(-0.0) == "-0");
  CHECK(formatDouble(1e20) == "1e+20");
  for (double v : {1.0 / 3, 0.1f * 1.0, 6.02214076e23, -1e-300, 5e-324, 123456789.0})
    CHECK(std::strtod(formatDouble(v).c_str(), nullptr) == v);
}

TEST_CASE("hand-written IR text parses; comments are skipped") {
  const char *text = R"(// RUN: a line for lit
graph @"my model" training=0 {
  %x = input "x" : f32[2,3]
  %k = input "k" : i32[2]   // token ids
  %s = softmax %x axes=[1] : f32[2,3] loc("a.grad":1:2)
  %g = remap %x[d0, %k[d0] - 1] : f32[2]
  %inf = constant -inf : f32[]
  %r, %acc = recurrence steps=3 forward (%x axis=1 offset=0, %x axis=1 offset=0) args(%i, %xc, %ac) {
    %col = remap %xc[d0, %i] : f32[2]
    yield %col -> 1 add
  } : f32[2,3], f32[2,3]
  output "s" = %s
}
)";
  SourceManager sm;
  auto g = parseOk(text, sm);
  CHECK(g->modelName == "my model");
  CHECK(verifyGraph(*g).empty());
  Op *gather = g->findValue("g")->def;
  REQUIRE(gather->operands.size() == 2);
  CHECK(gather->maps[0][1].indirect == 1);
  CHECK(gather->maps[0][1].pos == Affine::constantOf(-1));
  CHECK(std::isinf(g->findValue("inf")->def->value));
  CHECK(g->findValue("r")->def->body->args[0]->type == TensorType::index());
  // The printed form is canonical and stable.
  std::string once = printGraph(*g, &sm);
  SourceManager sm2;
  CHECK(printGraph(*parseOk(once, sm2), &sm2) == once);
}

TEST_CASE("the verifier accepts a fresh graph and names the op it rejects") {
  SourceManager sm;
  auto g = buildAllOps(sm);
  Op *sum = nullptr;
  for (auto &op : g->top.ops)
    if (op->kind == OpKind::ReduceMax)
      sum = op.get();
  REQUIRE(sum);
  sum->axes = {3};
  auto msgs = verifyGraph(*g);
  REQUIRE(msgs.size() == 1);
  CHECK(msgs[0] == describeOp(*sum) + ": axis 3 out of range for rank 3");
}

TEST_CASE("a broken graph still prints, marking what is broken") {
  SourceManager sm;
  auto g = buildAllOps(sm);
  g->findValue("WT")->def->maps[0][0].pos = sym(3);
  firstOp(*g, OpKind::Exp)->operands[0] = nullptr;
  std::string text = printGraph(*g, &sm);
  CHECK(text.find("%WT = remap %W[%?s3, d0]") != std::string::npos);
  CHECK(text.find("= exp %<null> :") != std::string::npos);
  CHECK(mentions(verifyGraph(*g), "operand 0 is null"));
}

TEST_CASE("the verifier rejects broken graphs") {
  struct Case {
    const char *expect;
    void (*breakIt)(Graph &);
  };
  const Case cases[] = {
      {"axes are not sorted and unique",
       [](Graph &g) {
         firstOp(g, OpKind::Softmax)->axes = {2, 2};
       }},
      {"expects 1 operands, has 2",
       [](Graph &g) {
         Op *e = firstOp(g, OpKind::Exp);
         e->operands.push_back(e->operands[0]);
       }},
      {"is not defined before its use", [](Graph &g) { std::swap(g.top.ops[20], g.top.ops[21]); }},
      {"the body does not end with a yield",
       [](Graph &g) { firstOp(g, OpKind::Recurrence)->body->ops.pop_back(); }},
      {"carried 1 takes slices of f32[4,8]",
       [](Graph &g) {
         Op *y = firstOp(g, OpKind::Recurrence)->body->ops.back().get();
         y->operands[1] = g.findValue("x");
       }},
      {"has 2 axes; the operand has rank 3",
       [](Graph &g) { g.findValue("strided")->def->maps[0].pop_back(); }},
      {"symbol number 0 out of range",
       [](Graph &g) { g.findValue("WT")->def->maps[0][0].pos = sym(0); }},
      {"loop variable d2 out of range",
       [](Graph &g) { g.findValue("WT")->def->maps[0][0].pos = d(2); }},
      {"indirect index in a contract",
       [](Graph &g) {
         Op *c = g.findValue("conv")->def;
         c->maps[0][0] = AxisIndex{Affine{}, 1, {d(0)}};
       }},
      {"must be i32", [](Graph &g) { g.findValue("gather")->def->operands[1] = g.findValue("x"); }},
      {"the loss must be f32[]", [](Graph &g) { g.loss.value = g.findValue("gather"); }},
      {"the new value has type", [](Graph &g) { g.updates[0].value = g.findValue("gather"); }},
      {"used by two values", [](Graph &g) { g.findValue("WT")->name = "W"; }},
      {"do not fit axis 1",
       [](Graph &g) { firstOp(g, OpKind::Recurrence)->carried[0].offset = 2; }},
      {"yield outside a recurrence body",
       [](Graph &g) {
         Op *rec = firstOp(g, OpKind::Recurrence);
         rec->body->ops.back()->parent = &g.top;
         g.top.ops.push_back(std::move(rec->body->ops.back()));
         rec->body->ops.pop_back();
       }},
      {"is not a top-level value", [](Graph &g) { g.outputs[0].value = g.findValue("hn"); }},
      {"must be f32, not i32",
       [](Graph &g) { firstOp(g, OpKind::Neg)->operands[0] = g.findValue("tok"); }},
  };
  for (const Case &c : cases) {
    SourceManager sm;
    auto g = buildAllOps(sm);
    REQUIRE(verifyGraph(*g).empty());
    c.breakIt(*g);
    auto msgs = verifyGraph(*g);
    INFO("expected: ", c.expect);
    for (auto &m : msgs)
      INFO(m);
    CHECK(mentions(msgs, c.expect));
  }
}

TEST_CASE("the parser rejects broken IR text at the right place") {
  auto graph = [](const std::string &body) {
    return "graph @g training=0 {\n  %x = input \"x\" : f32[2,3]\n  %k = input \"k\" : i32[2]\n" +
           body + "}\n";
  };
  struct Case {
    std::string body, expect;
  };
  const Case cases[] = {
      {"  %a = exp %b : f32[2,3]\n", "bad.ir:4:12: error: undefined value %b"},
      {"  %a = exp %x : f32[3,2]\n", "bad.ir:4:3: error: result type f32[3,2] differs"},
      {"  %a = reduce_sum %x axes=[2] : f32[2]\n", "axis 2 out of range for rank 2"},
      {"  %a = reduce_sum %x axes=[1] : f32[3]\n", "result type f32[3] should be f32[2]"},
      {"  %x = exp %x : f32[2,3]\n", "bad.ir:4:3: error: redefinition of %x"},
      {"  %a = frob %x : f32[2,3]\n", "bad.ir:4:8: error: unknown op 'frob'"},
      {"  %a = neg %k : i32[2]\n", "operand %k must be f32, not i32[2]"},
      {"  %a = remap %x[d0, d2] : f32[2,3]\n", "bad.ir:4:21: error: loop variable d2 out of range"},
      {"  %a = remap %x[d0, %x[d1]] : f32[2,3]\n", "indirect operand %x must be i32"},
      {"  %a = remap %x[d0, %k] : f32[2,3]\n", "%k is not a step variable"},
      {"  %a = contract %x[d0, r1] r=[3] : f32[2]\n", "reduction variable r1 out of range"},
      {"  %r = recurrence steps=3 forward (%x axis=1 offset=0) args(%t, %c) {\n"
       "    %a = remap %c[d0, %t] : f32[2]\n  } : f32[2,3]\n",
       "bad.ir:6:3: error: the recurrence body does not end with a yield"},
      {"  %r = recurrence steps=3 forward (%x axis=1 offset=0) args(%t, %c) {\n"
       "    %a = remap %c[d0, %t] : f32[2]\n    yield %a -> 0 set\n"
       "    %b = exp %a : f32[2]\n  } : f32[2,3]\n",
       "bad.ir:7:5: error: a yield must be the last op of a recurrence body"},
      {"  %r = recurrence steps=3 forward (%x axis=1 offset=0) args(%t, %c) {\n"
       "    %a = remap %c[d0, %t] : f32[2]\n    yield %a -> 0 set\n  } : f32[2,3]\n"
       "  %b = exp %a : f32[2]\n",
       "bad.ir:8:12: error: value %a is not in scope here"},
      {"  %r = recurrence steps=3 forward (%x axis=1 offset=0) args(%t, %c) {\n"
       "    %a = remap %c[d0, %t] : f32[2]\n    yield %a -> 0 set\n  } : f32[2,4]\n",
       "bad.ir:7:7: error: type f32[2,4] does not match the op's type f32[2,3]"},
      {"  %r = recurrence steps=3 forward (%x axis=1 offset=0) args(%t, %c) {\n"
       "    yield %c -> 0 set\n  } : f32[2,3]\n",
       "carried 0 takes slices of f32[2]"},
      {"  yield %x -> 0 set\n", "yield outside a recurrence body"},
      {"  minimize \"l\" = %x\n", "bad.ir:4:18: error: the loss must be f32[], not f32[2,3]"},
      {"  update %x = %x\n", "%x is not a state"},
      {"  %a = input \"a : f32[2]\n", "bad.ir:4:14: error: unterminated string"},
      {"  %a = exp %x : f32[2,3] $\n", "bad.ir:4:26: error: unexpected character '$'"},
      {"  %a = exp %x f32[2,3]\n", "expected ':', found 'f32'"},
  };
  for (const Case &c : cases) {
    std::string err = parseError(graph(c.body));
    INFO(c.body);
    INFO(err);
    CHECK(err.find(c.expect) != std::string::npos);
  }
  CHECK(parseError("").find("expected 'graph', found the end of the input") != std::string::npos);
}

TEST_CASE("the DOT output has clusters, both colours and kernels, and renders") {
  SourceManager sm;
  auto g = buildAllOps(sm);
  DotOptions opts;
  opts.kernels.push_back({g->findValue("WT")->def, g->findValue("strided")->def});
  opts.kernels.push_back({g->findValue("hn")->def});
  opts.kernelNames = {"fused_transpose"};
  std::string dot = writeDot(*g, opts);
  CHECK(dot.rfind("digraph \"all_ops\" {", 0) == 0);
  CHECK(dot.find("subgraph cluster_") != std::string::npos);
  CHECK(dot.find("label=\"%h, %G = recurrence\"") != std::string::npos);
  CHECK(dot.find("label=\"%gather.adj = scatter_add\\nf32[10,8]\"") != std::string::npos);
  CHECK(dot.find("label=\"fused_transpose\"") != std::string::npos);
  CHECK(dot.find("label=\"kernel 1\"") != std::string::npos);
  CHECK(dot.find("#dbe9f6") != std::string::npos); // forward
  CHECK(dot.find("#f9d3b8") != std::string::npos); // backward
  CHECK(dot.find("shape=invhouse") != std::string::npos);
  CHECK(dot.find("shape=cylinder") != std::string::npos);
  CHECK(dot.find("shape=octagon") != std::string::npos);
  CHECK(dot.find("shape=box3d") != std::string::npos);
  if (!std::filesystem::exists("/usr/bin/dot"))
    return;
  FILE *p = popen("/usr/bin/dot -Tsvg -o /dev/null", "w");
  REQUIRE(p);
  std::fwrite(dot.data(), 1, dot.size(), p);
  CHECK(pclose(p) == 0);
}
