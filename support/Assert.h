//===- support/Assert.h - Internal invariants ------------------------------===//
//
// A broken invariant is a bug in gradc, never the user's fault: it throws
// InternalError, which the driver reports as "internal error" with exit 3.
// User errors go through the DiagnosticEngine instead (support/Diagnostics.h).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <stdexcept>
#include <string>

namespace gradc {

struct InternalError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void internalError(const char *file, int line, const std::string &msg);

} // namespace gradc

#define GRADC_ASSERT(cond, msg)                                                \
  do {                                                                         \
    if (!(cond))                                                               \
      ::gradc::internalError(__FILE__, __LINE__,                               \
                             std::string("assertion `" #cond "` failed: ") +   \
                                 (msg));                                       \
  } while (0)

#define GRADC_UNREACHABLE(msg) ::gradc::internalError(__FILE__, __LINE__, msg)
