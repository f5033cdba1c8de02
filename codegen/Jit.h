//===- codegen/Jit.h - Native code for a graph through ORC LLJIT ----------===//
//
// compileGraph() lowers a graph to one LLVM module (codegen/Emitter.h),
// optimizes it with LLVM's O2 pipeline for the host CPU (AVX2 and FMA
// here), emits an object file and links it into an LLJIT instance whose
// only external symbols are the runtime functions of codegen/KernelAbi.h
// and the C library's memcpy/memset. Object files are cached on disk, keyed
// by the graph (sizes and source locations included), the options, LLVM's
// version and the CPU, so that compiling the same model again loads the
// object and skips LLVM altogether.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "codegen/Emitter.h"
#include "codegen/KernelAbi.h"
#include "codegen/MemoryPlan.h"

#include <memory>
#include <string>
#include <vector>

namespace llvm {
class LLVMContext;
class Module;
namespace orc {
class LLJIT;
}
} // namespace llvm

namespace gradc::codegen {

struct JitOptions {
  int optLevel = 2;      ///< 0..3, LLVM's pipeline level
  bool cache = true;     ///< use the on-disk object cache
  std::string cacheDir;  ///< empty: $XDG_CACHE_HOME/gradc or ~/.cache/gradc
  EmitOptions emit;
};

/// A compiled graph: its entry points and what its kernels compute.
class NativeCode {
public:
  ~NativeCode();
  using Entry = void (*)(KernelContext *);
  Entry forward = nullptr;  ///< the ops not produced by autodiff
  Entry backward = nullptr; ///< the backward pass (does nothing without one)
  std::vector<KernelInfo> kernels;
  bool fromCache = false;
  double llvmMs = 0; ///< time spent in LLVM (0 on a cache hit)

private:
  friend std::unique_ptr<NativeCode> compileGraph(const ir::Graph &, const MemoryPlan &,
                                                  const JitOptions &);
  std::unique_ptr<llvm::orc::LLJIT> jit_;
};

/// Compiles `g` (laid out by `plan`). Throws InternalError if LLVM fails.
std::unique_ptr<NativeCode> compileGraph(const ir::Graph &g, const MemoryPlan &plan,
                                         const JitOptions &opts);

/// A module gradc built by hand (not from a graph), optimized for the host
/// with gradc's pipeline and linked into a JIT of its own: the fused
/// optimizer update (codegen/UpdateKernel.h).
class JitModule {
public:
  ~JitModule();
  /// The address of function `name`; throws InternalError if it is missing.
  void *lookup(const std::string &name) const;

private:
  friend std::unique_ptr<JitModule> compileModule(std::unique_ptr<llvm::LLVMContext>,
                                                  std::unique_ptr<llvm::Module>, int);
  std::unique_ptr<llvm::orc::LLJIT> jit_;
};

/// Targets `m` (built in `ctx`) at the host, optimizes it and links it.
std::unique_ptr<JitModule> compileModule(std::unique_ptr<llvm::LLVMContext> ctx,
                                         std::unique_ptr<llvm::Module> m, int optLevel);

/// The optimized LLVM IR (asm = false) or the host assembly of `g`, as
/// `gradc compile --emit=llvm|asm` prints them.
std::string emitText(const ir::Graph &g, const MemoryPlan &plan, const JitOptions &opts, bool asm_);

} // namespace gradc::codegen
