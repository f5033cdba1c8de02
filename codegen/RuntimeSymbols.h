//===- codegen/RuntimeSymbols.h - What generated code may call ------------===//
#pragma once

#include <vector>

namespace gradc::codegen {

/// A function generated code calls, by symbol name.
struct RuntimeSymbol {
  const char *name;
  void *address;
};

/// Every symbol the JIT resolves for generated code: the runtime functions
/// of codegen/KernelAbi.h, the thread pool's parallel-for, and the C
/// library's memcpy, memmove and memset (LLVM lowers its memory intrinsics
/// to them).
const std::vector<RuntimeSymbol> &runtimeSymbols();

} // namespace gradc::codegen
