//===- codegen/ObjectCache.cpp - Compiled code kept on disk ---------------===//
#include "codegen/ObjectCache.h"

#include "codegen/Jit.h"
#include "ir/Printer.h"
#include "runtime/AtomicFile.h"

#include <llvm/ADT/StringExtras.h>
#include <llvm/Config/llvm-config.h>
#include <llvm/Support/SHA256.h>
#include <llvm/Target/TargetMachine.h>

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

namespace gradc::codegen {

namespace {

/// The code generator's sources, hashed at build time: a rebuilt gradc with
/// a changed code generator never loads what the old one compiled.
#include "CodegenHash.inc"
constexpr const char *kFormat = "gradc-native-5 " GRADC_CODEGEN_HASH;

bool readFile(const std::string &path, std::string &out) {
  std::ifstream f(path, std::ios::binary);
  if (!f)
    return false;
  std::ostringstream ss;
  ss << f.rdbuf();
  out = ss.str();
  return !f.bad();
}

void writeQuietly(const std::string &path, const std::string &bytes) {
  runtime::AtomicFile f(path);
  std::string err;
  if (f.open(err) && f.write(bytes, err))
    f.commit(err);
}

} // namespace

std::string cacheDirectory(const JitOptions &opts) {
  if (!opts.cacheDir.empty())
    return opts.cacheDir;
  if (const char *x = std::getenv("XDG_CACHE_HOME"); x && *x)
    return std::string(x) + "/gradc";
  if (const char *h = std::getenv("HOME"); h && *h)
    return std::string(h) + "/.cache/gradc";
  return "";
}

std::string cacheStem(const std::string &dir, const ir::Graph &g, const JitOptions &opts,
                      llvm::TargetMachine &tm, int shards) {
  std::ostringstream key;
  key << kFormat << "\n"
      << LLVM_VERSION_STRING << "\n"
      << tm.getTargetCPU().str() << "\n"
      << tm.getTargetFeatureString().str() << "\n"
      << "O" << opts.optLevel << " gemm " << opts.emit.gemmMinFlops << " par "
      << opts.emit.parallelMinElements << " shards " << shards << " profile "
      << opts.emit.profile << "\n"
      << ir::printGraph(g, nullptr);
  std::function<void(const ir::Region &)> locs = [&](const ir::Region &r) {
    for (auto &op : r.ops) {
      key << op->loc.file << ":" << op->loc.line << ":" << op->loc.col << " ";
      if (op->body)
        locs(*op->body);
    }
  };
  locs(g.top);
  std::string text = key.str();
  return dir + "/" + llvm::toHex(llvm::SHA256::hash(llvm::arrayRefFromStringRef(text)), true);
}

std::optional<CachedCode> readCache(const std::string &stem) {
  std::string meta;
  if (!readFile(stem + ".json", meta))
    return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(meta, nullptr, false);
  if (!j.is_object() || !j["kernels"].is_array() || !j["objects"].is_number_integer())
    return std::nullopt;
  CachedCode c;
  for (int i = 0; i < j["objects"].get<int>(); ++i) {
    c.objects.emplace_back();
    if (!readFile(stem + "." + std::to_string(i) + ".o", c.objects.back()))
      return std::nullopt;
  }
  for (auto &k : j["kernels"])
    c.kernels.push_back({k.value("name", ""),
                         SourceLoc{k.value("file", 0u), k.value("line", 0u), k.value("col", 0u)},
                         k.value("index", ""), k.value("offset", int64_t(0)),
                         k.value("bound", int64_t(0)), k.value("what", ""),
                         k.value("kind", "")});
  return c;
}

void writeCache(const std::string &stem, const CachedCode &code) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(stem).parent_path(), ec);
  if (ec)
    return;
  for (size_t i = 0; i < code.objects.size(); ++i)
    writeQuietly(stem + "." + std::to_string(i) + ".o", code.objects[i]);
  nlohmann::json kernels = nlohmann::json::array();
  for (const KernelInfo &k : code.kernels)
    kernels.push_back({{"name", k.name},
                       {"file", k.loc.file},
                       {"line", k.loc.line},
                       {"col", k.loc.col},
                       {"index", k.index},
                       {"offset", k.offset},
                       {"bound", k.bound},
                       {"what", k.what},
                       {"kind", k.kind}});
  nlohmann::json j{{"objects", code.objects.size()}, {"kernels", kernels}};
  writeQuietly(stem + ".json", j.dump());
}

} // namespace gradc::codegen
