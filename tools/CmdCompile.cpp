//===- tools/CmdCompile.cpp - gradc compile -------------------------------===//
//
// Prints a stage of the pipeline: the syntax tree, the IR graph, or the
// graph as Graphviz DOT. A `.ir` file is IR text: it is parsed, verified and
// printed again, so that passes can be tested on IR alone.
//
//===----------------------------------------------------------------------===//
#include "frontend/ASTPrinter.h"
#include "frontend/Lowering.h"
#include "ir/DotWriter.h"
#include "ir/IRParser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "notation/GradEquations.h"
#include "support/Assert.h"
#include "tools/Commands.h"
#include "api/Pipeline.h"
#include "codegen/Jit.h"
#include "codegen/MemoryPlan.h"

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

namespace gradc::tool {

namespace {

struct CompileOptions {
  CommonOptions common;
  NativeOptions native;
  std::string emit = "ir";
  std::string out;
  bool trainMode = false;
  std::string graph = "fwd";
};

int writeOut(const std::string &text, const std::string &path) {
  if (path.empty() || path == "-") {
    std::cout << text;
    return kOk;
  }
  std::ofstream f(path, std::ios::binary);
  f << text;
  f.close();
  if (!f) {
    std::cerr << "gradc: error: cannot write '" << path << "'\n";
    return kUserError;
  }
  return kOk;
}

bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

int runCompile(const CompileOptions &o) {
  SourceManager sm;
  DiagnosticEngine diags(sm, &std::cerr);
  std::unique_ptr<ir::Graph> graph;
  if (endsWith(o.common.file, ".ir")) {
    std::ifstream f(o.common.file, std::ios::binary);
    if (!f) {
      diags.fileError(o.common.file, "cannot open the file");
      return kUserError;
    }
    std::stringstream ss;
    ss << f.rdbuf();
    graph = ir::parseGraph(ss.str(), o.common.file, sm, diags);
    if (!graph || diags.hasErrors())
      return kUserError;
    std::vector<std::string> problems = ir::verifyGraph(*graph);
    if (!problems.empty()) {
      for (auto &p : problems)
        std::cerr << o.common.file << ": error: " << p << "\n";
      return kUserError;
    }
    if (o.emit == "ast" || o.emit == "grad-eqs") {
      std::cerr << "gradc: error: --emit=" << o.emit << " needs a model file, not IR\n";
      return kUsage;
    }
  } else {
    if (o.emit == "ast") // the syntax tree alone: no semantic checks
      return writeOut(printAST(*loadProgram(o.common.file, sm, diags).modules[0]), o.out);
    FrontendResult fr = runFrontend(o.common.file, nullptr, o.common.frontend(), sm, diags);
    if (o.emit == "grad-eqs") // as training runs it: gradients of the parameters only
      return writeOut(
          notation::printGradEquations(
              *api::buildGraph(*fr.model, api::GraphKind::Gradient, diags, {/*inputs=*/false, o.common.remat}), *fr.model, sm),
          o.out);
    // opt, llvm and asm show the graph native code is made from.
    bool optimized = o.emit == "opt" || o.emit == "llvm" || o.emit == "asm" || o.graph == "opt";
    graph = api::buildGraph(*fr.model,
                            o.emit == "grad" || o.graph == "grad" || o.graph == "opt"
                                ? api::GraphKind::Gradient
                            : o.trainMode ? api::GraphKind::Train
                                          : api::GraphKind::Eval,
                            diags, {true, o.common.remat, optimized});
  }
  if (o.emit == "ir" || o.emit == "grad" || o.emit == "opt")
    return writeOut(ir::printGraph(*graph, &sm), o.out);
  if (o.emit == "llvm" || o.emit == "asm") {
    codegen::MemoryPlan plan(*graph);
    return writeOut(codegen::emitText(*graph, plan, o.native.jit(), o.emit == "asm"), o.out);
  }
  return writeOut(ir::writeDot(*graph), o.out);
}

} // namespace

Command addCompile(CLI::App &app) {
  auto o = std::make_shared<CompileOptions>();
  CLI::App *cmd = app.add_subcommand("compile", "print a stage of the compilation");
  o->common.add(*cmd);
  cmd->add_option("--emit", o->emit,
                  "ast: the syntax tree; ir: the forward graph; grad: forward and backward "
                  "graph; grad-eqs: the backward pass as equations in the model's notation; "
                  "opt: the graph after the rewrites for native code; llvm: the optimized "
                  "LLVM IR of the native code; asm: its assembly; dot: Graphviz")
      ->check(CLI::IsMember({"ast", "ir", "grad", "grad-eqs", "opt", "llvm", "asm", "dot"}));
  cmd->add_option("-o", o->out, "write to this file instead of standard output");
  cmd->add_flag("--train-mode", o->trainMode, "lower the training graph (training = 1)");
  cmd->add_option("--graph", o->graph,
                  "with --emit=opt|dot|llvm|asm: fwd (the forward graph), grad (forward and "
                  "backward; in DOT coloured apart) or opt (forward and backward after the "
                  "rewrites for native code)")
      ->check(CLI::IsMember({"fwd", "grad", "opt"}));
  o->native.add(*cmd);
  return {cmd, [o] { return runCompile(*o); }};
}

} // namespace gradc::tool
