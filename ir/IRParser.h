//===- ir/IRParser.h - Reading the IR's text form back --------------------===//
//
// Parses what ir/Printer.h prints, so that a pass can be tested on IR text
// alone. The grammar (one rule per parse method in IRParser.cpp; numbers,
// types, locations and initializers in IRLexer.cpp):
//
//   graph     ::= 'graph' @NAME 'training' '=' INT '{' stmt* '}'
//   stmt      ::= op | named | update
//   named     ::= ('output'|'minimize'|'metric'|'gradient') STRING '=' %V loc?
//   update    ::= 'update' %V '=' %V loc?
//   op        ::= (%V (',' %V)* '=')? 'bwd'? MNEMONIC operands (':' types)? loc?
//   loc       ::= 'loc' '(' STRING ':' INT ':' INT ')'
//   type      ::= ('f32'|'i32') '[' (INT (',' INT)*)? ']' | 'index'
//
// with the operands of each op class:
//
//   leaf      input|param|state|noise STRING init? ; constant NUMBER ;
//             iota 'axis' '=' INT
//   init      zeros() | ones() | constant(N) | normal(N) | uniform(N, N) |
//             he(fan_in=I) | lecun(fan_in=I) | xavier(fan_in=I, fan_out=I)
//   unary     %V            (powc: %V '^' NUMBER)
//   binary    %V ',' %V     ternary: %V ',' %V ',' %V
//   remap     access
//   scatter_add %V '->' map      (the map is over the source's axes d0, d1, ...)
//   contract  access (',' access)* ('r' '=' ints)? ('->' map)?
//             (with '->' map, the output map, every loop is an r<N>)
//   access    %V map
//   map       '[' (axis (',' axis)*)? ']'
//   axis      term (('+'|'-') term)*, where a term is INT, INT '*' var, var,
//             or (in the map of remap and scatter_add only, once, with '+')
//             an indirect read %V '[' affine (',' affine)* ']'; var is d<N>
//             (result axis; scatter_add: source axis), r<N> (contract loop)
//             or %V (a step variable)
//   reduce    %V 'axes' '=' ints          (also softmax, log_softmax)
//   recurrence 'steps' '=' INT ('forward'|'reverse')
//             '(' (%V 'axis' '=' SINT 'offset' '=' SINT) (',' ...)* ')'
//             'args' '(' %V (',' %V)* ')' '{' op* '}'    (axis=-1: carried whole)
//   yield     (%V '->' INT ('delta' '=' SINT)? 'whole'? ('set'|'add')) (',' ...)*
//
// Values must be defined before they are used (a body may use the values
// defined above it), names are unique, and every op is checked by the
// verifier's per-op rules before it is built, so ill-typed text is a user
// error at the op's line rather than an internal assertion.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Graph.h"
#include "support/Diagnostics.h"
#include "support/SourceManager.h"

#include <memory>
#include <string>
#include <string_view>

namespace gradc::ir {

/// Parses IR text. The text is registered in `sm` as `bufferName`, and
/// errors are reported through `diags` at their line and column in it.
/// Paths named by `loc(...)` are looked up in `sm` and registered (with no
/// contents) when unknown. Returns null after reporting an error.
std::unique_ptr<Graph> parseGraph(std::string_view text, const std::string &bufferName,
                                  SourceManager &sm, DiagnosticEngine &diags);

} // namespace gradc::ir
