//===- tests/fuzz/fuzz_frontend.cpp - libFuzzer target for the front end --===//
//
// Feeds arbitrary bytes through the whole front end: lexer, parser, module
// loader, semantic analysis, lowering and the IR verifier, then prints the
// graph and parses the text back; a model with a loss is also stabilized
// and differentiated (once more with recurrences checkpointed, --remat),
// and the backward graph verified. A user error is a fine outcome; a crash,
// a sanitizer report, an internal error or a malformed graph is a bug.
//
//===----------------------------------------------------------------------===//
#include "frontend/CompileModel.h"
#include "frontend/Lowering.h"
#include "ir/IRParser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/Autodiff.h"
#include "passes/ComposeRemaps.h"
#include "passes/DeadCode.h"
#include "passes/Remat.h"
#include "passes/Stabilize.h"
#include "support/Assert.h"

#include <cstdio>
#include <cstdlib>
#include <sstream>

using namespace gradc;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  SourceManager sm;
  std::ostringstream sink;
  DiagnosticEngine diags(sm, &sink);
  try {
    FrontendOptions opts;
    FrontendResult fr = runFrontend("fuzz.grad", &text, opts, sm, diags);
    for (int mode : {0, 1, 2}) { // eval; training; training with --remat
      bool training = mode > 0;
      auto g = lowerModel(*fr.model, training);
      auto problems = ir::verifyGraph(*g);
      if (!problems.empty()) {
        std::fprintf(stderr, "malformed graph: %s\n", problems[0].c_str());
        std::abort();
      }
      if (training && g->loss.value) {
        passes::stabilize(*g);
        if (mode == 2) {
          passes::composeRemaps(*g);
          passes::eliminateDeadCode(*g);
          passes::segmentRecurrences(*g);
          problems = ir::verifyGraph(*g);
          if (!problems.empty()) {
            std::fprintf(stderr, "malformed checkpointed graph: %s\n", problems[0].c_str());
            std::abort();
          }
        }
        passes::differentiate(*g);
        passes::eliminateDeadCode(*g);
        problems = ir::verifyGraph(*g);
        if (!problems.empty()) {
          std::fprintf(stderr, "malformed backward graph: %s\n", problems[0].c_str());
          std::abort();
        }
      }
      std::string printed = ir::printGraph(*g, &sm);
      DiagnosticEngine irDiags(sm, &sink);
      auto back = ir::parseGraph(printed, "fuzz.ir", sm, irDiags);
      if (!back || ir::printGraph(*back, &sm) != printed) {
        std::fprintf(stderr, "IR round trip failed:\n%s\n", printed.c_str());
        std::abort();
      }
    }
  } catch (const UserError &) {
  } catch (const sema::UsageError &) {
  } catch (const InternalError &e) {
    std::fprintf(stderr, "internal error: %s\n", e.what());
    std::abort();
  }
  return 0;
}
