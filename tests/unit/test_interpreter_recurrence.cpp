//===- tests/unit/test_interpreter_recurrence.cpp - Recurrences -----------===//
//
// Recurrences in extended storage, forwards and backwards, with set and
// accumulated yields, nested, and with tensors carried whole, each against
// a hand-written loop or values worked out by hand.
//
//===----------------------------------------------------------------------===//
#include "InterpreterTestUtil.h"
#include "ir/Verifier.h"

#include <cmath>

using namespace gradc;
using namespace gradc::runtime;
using namespace gradc::testutil;
using ir::OpKind;

TEST_CASE("a forward RNN with a boundary value in extended storage") {
  // h[t, j] = tanh(w[j] * h[t-1, j] + x[t, j]), h[-1, j] = h0[j]. h is
  // carried as hx[T+1, J] with the boundary at position 0: offset 1.
  const int64_t T = 5, J = 3;
  ir::Graph g;
  ir::Builder b(g);
  ir::Value *x = input(b, "x", {T, J});
  ir::Value *w = input(b, "w", {J});
  ir::Value *h0 = input(b, "h0", {1, J});
  // hx[e, j] = h0[e, j]: h0 at e = 0, zeros past it (out-of-bounds reads).
  ir::Value *init = b.remap(h0, ir::identityMap(2), {T + 1, J});
  ir::Op *rec = b.recurrence({init}, {{0, 1}}, T, false);
  b.setRegion(rec->body.get());
  ir::Value *t = rec->body->args[0], *hc = rec->body->args[1];
  // h[t-1] is extended position t - 1 + 1 = t.
  ir::Value *prev = b.remap(hc, mapOf({symbol(0), loopVar(0)}), {J}, {}, {t});
  ir::Value *xt = b.remap(x, mapOf({symbol(0), loopVar(0)}), {J}, {}, {t});
  ir::Value *ht = b.unary(OpKind::Tanh, b.binary(OpKind::Add, b.binary(OpKind::Mul, w, prev), xt));
  b.yield({ht}, {{0, 0, false}});
  b.setRegion(&g.top);
  ir::Value *h = b.remap(rec->result(), mapOf({loopVar(0, 1), loopVar(1)}), {T, J});

  Interpreter in(g);
  DTensor xv = randomF32({T, J}, 5), wv = randomF32({J}, 6), h0v = randomF32({1, J}, 7);
  in.set("x", xv);
  in.set("w", wv);
  in.set("h0", h0v);
  in.run();
  std::vector<double> want(T * J), state = h0v.data;
  for (int64_t s = 0; s < T; ++s)
    for (int64_t j = 0; j < J; ++j) {
      state[j] = std::tanh(wv.data[j] * state[j] + xv.data[s * J + j]);
      want[s * J + j] = state[j];
    }
  checkClose(in.value(h), want);
  // The result is the whole extended tensor, boundary included.
  CHECK(in.value(rec->result()).data[1] == h0v.data[1]);
}

TEST_CASE("a backward-running recurrence with its boundary at the end") {
  // g[t, j] = tanh(w[j] * g[t+1, j] + x[t, j]), g[T, j] = gT[j]; carried as
  // gx[T+1, J] with step t at position t (offset 0) and the boundary at T.
  const int64_t T = 4, J = 2;
  ir::Graph g;
  ir::Builder b(g);
  ir::Value *x = input(b, "x", {T, J});
  ir::Value *w = input(b, "w", {J});
  ir::Value *gT = input(b, "gT", {1, J});
  ir::Value *init = b.remap(gT, mapOf({loopVar(0, -T), loopVar(1)}), {T + 1, J});
  ir::Op *rec = b.recurrence({init}, {{0, 0}}, T, /*reverse=*/true);
  b.setRegion(rec->body.get());
  ir::Value *t = rec->body->args[0], *gc = rec->body->args[1];
  ir::Value *next = b.remap(gc, mapOf({symbol(0, 1), loopVar(0)}), {J}, {}, {t});
  ir::Value *xt = b.remap(x, mapOf({symbol(0), loopVar(0)}), {J}, {}, {t});
  b.yield({b.unary(OpKind::Tanh, b.binary(OpKind::Add, b.binary(OpKind::Mul, w, next), xt))},
          {{0, 0, false}});
  b.setRegion(&g.top);

  Interpreter in(g);
  DTensor xv = randomF32({T, J}, 8), wv = randomF32({J}, 9), gTv = randomF32({1, J}, 10);
  in.set("x", xv);
  in.set("w", wv);
  in.set("gT", gTv);
  in.run();
  std::vector<double> want((T + 1) * J);
  for (int64_t j = 0; j < J; ++j)
    want[T * J + j] = gTv.data[j];
  for (int64_t s = T - 1; s >= 0; --s)
    for (int64_t j = 0; j < J; ++j)
      want[s * J + j] = std::tanh(wv.data[j] * want[(s + 1) * J + j] + xv.data[s * J + j]);
  checkClose(in.value(rec->result()), want);
}

TEST_CASE("yield with accumulate") {
  // c carried as cx[T+1] with offset 1 and boundary cx[0] = 5. Step t sets
  // c[t] = x[t], then adds 1 to it, then adds 2*x[t] into c[t-1].
  const int64_t T = 4;
  ir::Graph g;
  ir::Builder b(g);
  ir::Value *x = input(b, "x", {T});
  ir::Value *init = b.remap(b.constant(5, {1}), ir::identityMap(1), {T + 1});
  ir::Op *rec = b.recurrence({init}, {{0, 1}}, T, false);
  b.setRegion(rec->body.get());
  ir::Value *t = rec->body->args[0];
  ir::Value *xt = b.remap(x, mapOf({symbol(0)}), {}, {}, {t});
  ir::Value *twice = b.binary(OpKind::Mul, b.constant(2), xt);
  b.yield({xt, b.constant(1), twice}, {{0, 0, false}, {0, 0, true}, {0, -1, true}});
  b.setRegion(&g.top);

  Interpreter in(g);
  in.set("x", f32({T}, {1, 10, 100, 1000}));
  in.run();
  // cx[0] = 5 + 2*1; cx[k] = x[k-1] + 1 + 2*x[k]; cx[T] = x[T-1] + 1.
  checkClose(in.value(rec->result()), {7, 22, 211, 2101, 1001});
}

TEST_CASE("a nested recurrence: layers over l, time over t") {
  // h[l, t, j] = tanh(a[l, j] * h[l-1, t, j] + u[j] * h[l, t-1, j]) with
  // h[-1, t, j] = x[t, j] and h[l, -1, j] = 0. Outer carried hx[L+1, T, J]
  // (offset 1); inner carried rx[T+1, J] (offset 1) per layer.
  const int64_t L = 3, T = 4, J = 2;
  ir::Graph g;
  ir::Builder b(g);
  ir::Value *x = input(b, "x", {1, T, J});
  ir::Value *a = input(b, "a", {L, J});
  ir::Value *u = input(b, "u", {J});
  ir::Value *hInit = b.remap(x, ir::identityMap(3), {L + 1, T, J});
  ir::Op *outer = b.recurrence({hInit}, {{0, 1}}, L, false);
  b.setRegion(outer->body.get());
  ir::Value *l = outer->body->args[0], *hc = outer->body->args[1];
  ir::Value *rInit = b.constant(0, {T + 1, J});
  ir::Op *inner = b.recurrence({rInit}, {{0, 1}}, T, false);
  b.setRegion(inner->body.get());
  ir::Value *t = inner->body->args[0], *rc = inner->body->args[1];
  // Symbols: 0 = l (the outer step), 1 = t.
  ir::Value *below = b.remap(hc, mapOf({symbol(0), symbol(1), loopVar(0)}), {J}, {}, {l, t});
  ir::Value *before = b.remap(rc, mapOf({symbol(0), loopVar(0)}), {J}, {}, {t});
  ir::Value *al = b.remap(a, mapOf({symbol(0), loopVar(0)}), {J}, {}, {l});
  ir::Value *ht = b.unary(OpKind::Tanh, b.binary(OpKind::Add, b.binary(OpKind::Mul, al, below),
                                                 b.binary(OpKind::Mul, u, before)));
  b.yield({ht}, {{0, 0, false}});
  b.setRegion(outer->body.get());
  ir::Value *row = b.remap(inner->result(), mapOf({loopVar(0, 1), loopVar(1)}), {T, J});
  b.yield({row}, {{0, 0, false}});
  b.setRegion(&g.top);
  ir::Value *h =
      b.remap(outer->result(), mapOf({loopVar(0, 1), loopVar(1), loopVar(2)}), {L, T, J});

  Interpreter in(g);
  DTensor xv = randomF32({1, T, J}, 11), av = randomF32({L, J}, 12), uv = randomF32({J}, 13);
  in.set("x", xv);
  in.set("a", av);
  in.set("u", uv);
  in.run();
  std::vector<double> want(L * T * J);
  auto hAt = [&](int64_t li, int64_t ti, int64_t j) {
    if (ti < 0)
      return 0.0;
    return li < 0 ? xv.data[ti * J + j] : want[(li * T + ti) * J + j];
  };
  for (int64_t li = 0; li < L; ++li)
    for (int64_t ti = 0; ti < T; ++ti)
      for (int64_t j = 0; j < J; ++j)
        want[(li * T + ti) * J + j] =
            std::tanh(av.data[li * J + j] * hAt(li - 1, ti, j) + uv.data[j] * hAt(li, ti - 1, j));
  checkClose(in.value(h), want);
}

TEST_CASE("tensors carried whole: an accumulator and a copy, with whole yields") {
  // Backwards over t: acc += x[t] (acc carried whole from a0); last is set
  // to acc as it stood at the step's start (not as the yield's first write
  // left it), then x[t] is added to it, so that it ends equal to acc
  // (writes apply in operand order); rowsum[t] = sum_j x[t, j] is a sliced
  // carried tensor alongside.
  const int64_t T = 4, J = 3;
  ir::Graph g;
  ir::Builder b(g);
  ir::Value *x = input(b, "x", {T, J});
  ir::Value *a0 = input(b, "a0", {J});
  ir::Op *rec = b.recurrence({a0, b.constant(0, {J}), b.constant(0, {T})},
                             {{-1, 0}, {-1, 0}, {0, 0}}, T, /*reverse=*/true);
  b.setRegion(rec->body.get());
  ir::Value *t = rec->body->args[0], *acc = rec->body->args[1];
  ir::Value *xt = b.remap(x, mapOf({symbol(0), loopVar(0)}), {J}, {}, {t});
  ir::Value *sum = b.contract({xt}, {mapOf({loopVar(0)})}, {}, {J});
  b.yield({xt, acc, xt, sum},
          {{0, 0, true, true}, {1, 0, false, true}, {1, 0, true, true}, {2, 0, false, false}});
  b.setRegion(&g.top);
  REQUIRE(ir::verifyGraph(g).empty());

  Interpreter in(g);
  in.set("x", f32({T, J}, {1, 2, 3, 10, 20, 30, 100, 200, 300, 1000, 2000, 3000}));
  in.set("a0", f32({J}, {0.5, 0.25, 0.125}));
  in.run();
  checkClose(in.value(rec->result(0)), {1111.5, 2222.25, 3333.125});
  checkClose(in.value(rec->result(1)), {1111.5, 2222.25, 3333.125});
  checkClose(in.value(rec->result(2)), {6, 60, 600, 6000});
}
