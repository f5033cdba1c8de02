//===- tests/unit/test_module_loader.cpp - Loading files and imports ------===//
#include "frontend/ModuleLoader.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

using namespace gradc;
namespace fs = std::filesystem;

namespace {

/// A fresh directory under the system's temporary directory, removed at the end.
struct TempDir {
  fs::path path;
  TempDir() {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("gradc_loader_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string write(const std::string &name, const std::string &text) const {
    fs::path p = path / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
};

struct Loaded {
  LoadedProgram program;
  std::vector<std::string> paths; ///< each module's file path, in order
  std::string diag;
  bool failed = false;
};

template <class F> Loaded load(F &&run) {
  SourceManager sm;
  std::ostringstream os;
  DiagnosticEngine diags(sm, &os);
  Loaded r;
  try {
    r.program = run(sm, diags);
    for (const auto &m : r.program.modules)
      r.paths.push_back(sm.path(m->file));
  } catch (const UserError &) {
    r.failed = true;
  }
  r.diag = os.str();
  return r;
}

Loaded loadString(const std::string &text) {
  return load([&](SourceManager &sm, DiagnosticEngine &d) {
    return loadProgramFromString("main.grad", text, sm, d);
  });
}

Loaded loadFile(const std::string &path) {
  return load([&](SourceManager &sm, DiagnosticEngine &d) { return loadProgram(path, sm, d); });
}

std::string firstLine(const std::string &s) { return s.substr(0, s.find('\n')); }

} // namespace

TEST_CASE("loader: a main file needs a model") {
  for (const char *text : {"", "# only comments\n\n  \n", "def f(x) = x\n", "\xEF\xBB\xBF"}) {
    Loaded r = loadString(text);
    CHECK(r.failed);
    CHECK(firstLine(r.diag) == "main.grad:1:1: error: no model");
  }
  Loaded ok = loadString("model m { output x }");
  CHECK(!ok.failed);
  CHECK(ok.paths == std::vector<std::string>{"main.grad"});
}

TEST_CASE("loader: import \"std\" is the built-in library") {
  Loaded r = loadString("import \"std\"\nimport \"std\"\nmodel m { output x }");
  INFO(r.diag);
  REQUIRE(!r.failed);
  CHECK(r.paths == std::vector<std::string>{"main.grad", "<std>"});
  bool hasBce = false;
  for (const auto &def : r.program.modules[1]->defs)
    hasBce |= def->name == "bce_logits";
  CHECK(hasBce);
}

TEST_CASE("loader: relative imports, each file once, cycles allowed") {
  TempDir dir;
  std::string main = dir.write("main.grad", "import \"lib/a.grad\"\nmodel m { output x }\n");
  dir.write("lib/a.grad", "import \"b.grad\"\nimport \"../main.grad\"\nimport \"std\"\n"
                          "def fa(x) = x\n");
  dir.write("lib/b.grad", "import \"a.grad\"\nimport \"./a.grad\"\ndef fb(x) = x\n");
  Loaded r = loadFile(main);
  INFO(r.diag);
  REQUIRE(!r.failed);
  std::string root = dir.path.string();
  CHECK(r.paths ==
        std::vector<std::string>{main, root + "/lib/a.grad", root + "/lib/b.grad", "<std>"});
  CHECK(r.program.modules[1]->defs[0]->name == "fa");
  CHECK(r.program.modules[2]->defs[0]->name == "fb");
}

TEST_CASE("loader: errors in and about files") {
  TempDir dir;
  std::string root = dir.path.string();

  std::string main = dir.write("main.grad", "model m { output x }\nimport \"nope.grad\"\n");
  Loaded r = loadFile(main);
  CHECK(r.failed);
  CHECK(firstLine(r.diag) ==
        main + ":2:8: error: cannot open 'nope.grad': No such file or directory");

  // A syntax error in an imported file points into that file.
  main = dir.write("main2.grad", "import \"bad.grad\"\nmodel m { output x }\n");
  dir.write("bad.grad", "def f(x) = x +\n");
  r = loadFile(main);
  CHECK(firstLine(r.diag) == root + "/bad.grad:1:15: error: expected an expression, found end of "
                                    "line");

  r = loadFile(root + "/missing.grad");
  CHECK(r.failed);
  CHECK(r.diag == root + "/missing.grad: error: cannot open '" + root +
                      "/missing.grad': No such file or directory\n");

  r = loadFile(root);
  CHECK(r.diag == root + ": error: cannot open '" + root + "': Is a directory\n");

  r = loadFile("/dev/zero");
  CHECK(r.diag ==
        "/dev/zero: error: '/dev/zero' is larger than 64 MiB, the limit for a source file\n");

  main = dir.write("main3.grad", "import \"" + root + "\"\nmodel m { output x }\n");
  r = loadFile(main);
  CHECK(firstLine(r.diag) == main + ":1:8: error: cannot open '" + root + "': Is a directory");
}
