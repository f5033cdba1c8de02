//===- frontend/StdLib.h - The standard library's built-in source ---------===//
#pragma once

namespace gradc {

/// The text of frontend/std/std.grad, compiled into the binary; the module
/// loader registers it as "<std>" for `import "std"`.
const char *stdLibrarySource();

} // namespace gradc
