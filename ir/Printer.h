//===- ir/Printer.h - The IR's text form ----------------------------------===//
//
// Prints a graph one op per line, in the syntax ir/IRParser.h reads back:
//
//   graph @mlp training=0 {
//     %x = input "x" : f32[32,784] loc("mlp.grad":3:3)
//     %W = param "W" he(fan_in=784) : f32[784,10] loc("mlp.grad":4:3)
//     %0 = contract %x[d0, r0], %W[r0, d1] r=[784] : f32[32,10] loc("mlp.grad":6:5)
//     %1 = contract %g[r0, r1], %W[r2, r1] r=[32,10,784] -> [r0, r2] : f32[32,784]
//     %2 = scatter_add %ge -> [%tok[d0, d1], d2] : f32[50,16]
//     %h, %c = recurrence steps=50 forward (%h0 axis=1 offset=1, ...) args(%t, ...) {
//       ...
//       yield %hn -> 0 set, %g -> 1 delta=-1 add, %dW -> 2 whole add
//     } : f32[32,51,128], ...
//     output "y" = %y
//   }
//
// Printing is canonical (affine terms in a fixed order, numbers in their
// shortest exact form), so print -> parse -> print is the identity. The
// printer never asserts: a graph the verifier rejects still prints, with
// `<null>` or `?` where a reference is broken, so it can be inspected.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "support/SourceManager.h"

#include <string>

namespace gradc::ir {

/// The whole graph. `sm` resolves locations to paths; with a null `sm`
/// locations are left out.
std::string printGraph(const Graph &g, const SourceManager *sm);

/// One op (a recurrence with its body), indented by `indent` levels of two
/// spaces, ending in a newline.
std::string printOp(const Op &op, const SourceManager *sm, int indent = 0);

/// "%7 = reduce_sum", "%h, %c = recurrence", "yield": how diagnostics and
/// verifier messages name an op.
std::string describeOp(const Op &op);

/// A value reference as it appears in the text: "%h", "%grad.W", or a
/// quoted form ("%\"a b\"") when the name has other characters.
std::string printValueName(const Value *v);

/// The shortest decimal form of `v` that reads back as exactly `v`
/// ("1", "0.1", "1e-08", "inf", "-inf", "nan").
std::string formatDouble(double v);

} // namespace gradc::ir
