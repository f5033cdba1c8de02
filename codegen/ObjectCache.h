//===- codegen/ObjectCache.h - Compiled code kept on disk -----------------===//
//
// A compiled graph is kept as its object files (one per shard) and its
// kernel table, under a key that covers everything the code depends on: the
// graph (shapes included) with the source locations its kernels report, the
// options, the shard count, LLVM's version and the CPU with its features.
// Entries are written atomically, objects before the table that names them,
// so that a reader never sees half an entry; a cache that cannot be read or
// written only costs a compile.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/Emitter.h"

#include <optional>
#include <string>
#include <vector>

namespace llvm {
class TargetMachine;
}

namespace gradc::codegen {

struct JitOptions;

/// What one cache entry holds.
struct CachedCode {
  std::vector<std::string> objects;
  std::vector<KernelInfo> kernels;
};

/// The directory compiled objects are cached in: JitOptions::cacheDir, or
/// $XDG_CACHE_HOME/gradc, or ~/.cache/gradc ("" when none can be found).
std::string cacheDirectory(const JitOptions &opts);

/// The file name stem (in `dir`) of the entry for `g` compiled with `opts`
/// in `shards` shards for `tm`'s CPU.
std::string cacheStem(const std::string &dir, const ir::Graph &g, const JitOptions &opts,
                      llvm::TargetMachine &tm, int shards);

/// The entry at `stem`, if it is there whole.
std::optional<CachedCode> readCache(const std::string &stem);

/// Stores an entry at `stem` (creating its directory); failures are ignored.
void writeCache(const std::string &stem, const CachedCode &code);

} // namespace gradc::codegen
