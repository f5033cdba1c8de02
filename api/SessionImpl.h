//===- api/SessionImpl.h - What a Model and a Session hold ----------------===//
//
// A Session keeps the master copy of every leaf value (parameters, state,
// inputs, fixed noise) with a version number, and one engine per graph it
// has run (native code, or the interpreter with Options::interpreter). Before
// a pass, an engine receives only the leaves that changed since it last ran,
// so that a loop of setInput() and backward() copies the inputs alone.
//
// Training turns this around for the parameters and state it updates: after
// trainStep() their newest values live in the gradient graph's engine, where
// the optimizer wrote them, and the master copy is stale (Leaf::heldBy). They
// are copied back only when something else reads them (another graph's pass,
// param(), a save), so a loop of training steps copies nothing.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "gradc/gradc.h"

#include "api/Pipeline.h"
#include "api/Trainer.h"
#include "frontend/CompileModel.h"
#include "runtime/Engine.h"
#include "runtime/ThreadPool.h"
#include "support/Diagnostics.h"

#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>

namespace gradc {

struct Model::Impl {
  Options opts;
  std::string path;                ///< the file, or the name given for source text
  std::optional<std::string> text; ///< the source, for Model::fromString
  SourceManager sm;
  std::ostringstream diagText;
  DiagnosticEngine diags{sm, &diagText};
  FrontendResult fr;
  /// Built on first use, by api::GraphKind: evaluation, training, gradient.
  std::unique_ptr<ir::Graph> graphs[3];

  /// Runs `f`, turning reported errors into gradc::Error with their text;
  /// warnings go to Options::warnings.
  template <class F> auto guarded(F f) -> decltype(f()) {
    try {
      auto r = f();
      if (opts.warnings)
        *opts.warnings << diagText.str();
      diagText.str("");
      return r;
    } catch (const UserError &) {
      std::string text = diagText.str();
      diagText.str("");
      throw Error(text);
    } catch (const sema::UsageError &e) {
      throw UsageError(e.what());
    }
  }

  const ir::Graph &graph(api::GraphKind kind) {
    std::unique_ptr<ir::Graph> &g = graphs[static_cast<int>(kind)];
    if (!g)
      g = guarded([&] {
        api::BuildOptions bo;
        bo.remat = opts.remat;
        bo.inputs = opts.inputGradients;
        bo.optimize = !opts.interpreter;
        return api::buildGraph(*fr.model, kind, diags, bo);
      });
    return *g;
  }
  const ir::Graph &graph(bool gradient) {
    return graph(gradient ? api::GraphKind::Gradient : api::GraphKind::Eval);
  }
};

struct Session::Impl {
  std::shared_ptr<Model> model;
  uint64_t seed = 0;
  std::unique_ptr<runtime::ThreadPool> pool;
  struct Leaf {
    /// The master copy, in float32 (or int32) as native code holds it.
    Tensor value;
    uint64_t version = 0;
    /// The api::GraphKind of the engine that holds a newer value than
    /// `value` (written there by a training step), or -1.
    int heldBy = -1;
  };
  std::map<std::string, Leaf> leaves;
  uint64_t clock = 0;
  struct Run {
    std::unique_ptr<runtime::Engine> engine;
    std::map<std::string, uint64_t> seen; ///< leaf versions it holds
  };
  Run runs[3];   ///< by api::GraphKind: evaluation, training, gradient graph
  int last = -1; ///< the api::GraphKind of the last pass
  /// The optimizer of trainStep(), made at its first use.
  std::unique_ptr<api::Trainer> trainer;

  Model::Impl &m() { return model->impl(); }

  /// The engine of graph `kind`, compiled at first use.
  Run &runFor(api::GraphKind kind);
  /// Brings the engine of `kind` up to date with the leaves and runs it.
  Run &pass(api::GraphKind kind);
  /// Copies `leaf` back into the master copy if an engine holds it newer.
  void pull(const std::string &name, Leaf &leaf);
  /// pull() for every leaf.
  void syncHeld();
  /// The leaf op named `name` in the evaluation or training graph; throws
  /// Error naming `what` was looked for.
  const ir::Op &leafOp(const std::string &name, const char *what);
  /// Checks `t` against the leaf's type and makes it the master copy.
  void setLeaf(const std::string &name, Tensor t, const ir::Op &op);
  /// The trainer, made from the model's optimizer at first use.
  api::Trainer &trainerFor();
};

} // namespace gradc
