//===- frontend/StdLib.cpp - The standard library's built-in source -------===//
#include "frontend/StdLib.h"

namespace gradc {

const char *stdLibrarySource() {
  // CMake turns frontend/std/std.grad into one raw string literal.
  return
#include "StdSource.inc"
      ;
}

} // namespace gradc
