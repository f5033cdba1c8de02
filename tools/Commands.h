//===- tools/Commands.h - The gradc subcommands ---------------------------===//
//
// Each subcommand registers its options on a CLI11 subcommand and runs with
// the shared context. Exit statuses (DESIGN.md): 0 success, 1 an error in
// the user's files, 2 bad usage, 3 internal error, 4 a failed check.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/Jit.h"
#include "frontend/CompileModel.h"
#include "gradc/gradc.h"

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace gradc::tool {

enum ExitCode { kOk = 0, kUserError = 1, kUsage = 2, kInternal = 3, kCheckFailed = 4 };

/// Options every compiling command takes.
struct CommonOptions {
  std::string file;
  std::string model;
  std::vector<std::string> defines; ///< -D NAME=VALUE
  bool remat = false;               ///< --remat: checkpoint recurrences
  void add(CLI::App &cmd);
  /// Parses the -D list; throws sema::UsageError on a malformed one.
  FrontendOptions frontend() const;
};

/// Where a run's arrays come from (`run`, `gradcheck`).
struct DataOptions {
  std::vector<std::string> ins; ///< --in NAME=FILE.npy
  std::string inputsNpz;        ///< --inputs FILE.npz
  std::string params;           ///< --params FILE.npz
  uint64_t seed = 0;
  void add(CLI::App &cmd);
};

/// How native code is compiled and run (`run`, `bench`, `compile --emit=llvm|asm`).
struct NativeOptions {
  int optLevel = 2;     ///< -O0..-O3
  int threads = 0;      ///< --threads N (0: every core)
  bool noCache = false; ///< --no-cache
  std::string cacheDir; ///< --cache-dir DIR
  void add(CLI::App &cmd);
  codegen::JitOptions jit() const;
};

/// The session API's options for what the command line asked for.
gradc::Options sessionOptions(const CommonOptions &common, const NativeOptions &native);

/// A registered subcommand: `run` is called when it was selected.
struct Command {
  CLI::App *app;
  std::function<int()> run;
};

Command addCheck(CLI::App &app);
Command addCompile(CLI::App &app);
Command addRun(CLI::App &app);
Command addGradcheck(CLI::App &app);
Command addBench(CLI::App &app);
Command addTrain(CLI::App &app);

} // namespace gradc::tool
