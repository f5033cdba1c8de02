//===- frontend/ASTPrinter.h - Text forms of the syntax tree ---------------===//
//
// printAST is `gradc compile --emit=ast`: one node per line, indented,
// expressions as prefix S-expressions so that precedence is explicit:
//
//   (model ugrnn
//     (dim B 32)
//     (input x [B T K])
//     (param WhR [J J] (call he))
//     (eq h[b t j] (+ (* G[b t j] h[b (- t 1) j]) ...))
//     (minimize loss))
//
// printExpr writes an expression back in source syntax with the fewest
// parentheses that keep its structure; diagnostics and later passes use it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/AST.h"

#include <string>

namespace gradc {

/// The whole module as an indented tree; every line ends with '\n'.
std::string printAST(const ast::Module &module);

/// One statement as a single line of the tree (without indentation).
std::string printStmt(const ast::Stmt &stmt);

/// An expression as a prefix S-expression: (+ a (* b c)), x[b (- t 1)].
std::string printSExpr(const ast::Expr &expr);

/// An expression in source syntax with minimal parentheses: a + b*c^2.
std::string printExpr(const ast::Expr &expr);

} // namespace gradc
