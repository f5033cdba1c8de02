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
//   remap     access                 contract: access (',' access)* ('r' '=' ints)?
//   access    %V '[' (axis (',' axis)*)? ']'
//   axis      term (('+'|'-') term)*, where a term is INT, INT '*' var, var,
//             or (in remap only, once, with '+') an indirect read
//             %V '[' affine (',' affine)* ']'; var is d<N> (result axis),
//             r<N> (contract reduction axis) or %V (a step variable)
//   reduce    %V 'axes' '=' ints          (also softmax, log_softmax)
//   recurrence 'steps' '=' INT ('forward'|'reverse')
//             '(' (%V 'axis' '=' INT 'offset' '=' SINT) (',' ...)* ')'
//             'args' '(' %V (',' %V)* ')' '{' op* '}'
//   yield     (%V '->' INT ('delta' '=' SINT)? ('set'|'add')) (',' ...)*
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
