//===- tools/gradc.cpp - The gradc command ---------------------------------===//
//
// Dispatches to the subcommands and turns every way a run can end into its
// exit status: user errors (already reported as diagnostics) exit 1, bad
// usage 2, broken invariants 3 with a message, never a crash.
//
//===----------------------------------------------------------------------===//
#include "tools/Commands.h"

#include "support/Assert.h"
#include "support/Diagnostics.h"

#include <iostream>

using namespace gradc;
using namespace gradc::tool;

int main(int argc, char **argv) {
  CLI::App app{"gradc: a compiler for deep-learning models written in index notation"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "gradc 0.1");
  std::vector<Command> commands = {addCheck(app), addCompile(app), addRun(app),
                                   addGradcheck(app), addTrain(app), addBench(app)};
  // A first word that is neither a flag nor a command: say so plainly.
  if (argc > 1 && argv[1][0] != '-') {
    bool known = false;
    for (Command &c : commands)
      known = known || c.app->get_name() == argv[1];
    if (!known) {
      std::cerr << "gradc: error: unknown command '" << argv[1] << "' (commands:";
      for (Command &c : commands)
        std::cerr << " " << c.app->get_name();
      std::cerr << ")\nRun 'gradc --help' for usage.\n";
      return kUsage;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    std::cerr << "gradc: error: " << e.what() << "\n";
    std::cerr << "Run 'gradc --help' for usage.\n";
    return kUsage;
  }
  try {
    for (Command &c : commands)
      if (c.app->parsed())
        return c.run();
  } catch (const UserError &) {
    return kUserError;
  } catch (const gradc::UsageError &e) {
    std::cerr << "gradc: error: " << e.what() << "\n";
    return kUsage;
  } catch (const gradc::Error &e) {
    // From the session API: diagnostics with their source lines, or a
    // sentence about the caller's data.
    std::string msg = e.what();
    if (msg.find(": error: ") != std::string::npos)
      std::cerr << msg;
    else
      std::cerr << "gradc: error: " << msg << "\n";
    return kUserError;
  } catch (const sema::UsageError &e) {
    std::cerr << "gradc: error: " << e.what() << "\n";
    return kUsage;
  } catch (const InternalError &e) {
    std::cerr << "gradc: internal error: " << e.what()
              << "\nThis is a bug in gradc; please report it with the model file.\n";
    return kInternal;
  } catch (const std::bad_alloc &) {
    std::cerr << "gradc: error: out of memory\n";
    return kUserError;
  } catch (const std::exception &e) {
    std::cerr << "gradc: internal error: " << e.what() << "\n";
    return kInternal;
  }
  return kUsage;
}
