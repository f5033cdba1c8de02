//===- support/Assert.cpp - Internal invariants ----------------------------===//
#include "support/Assert.h"

namespace gradc {

void internalError(const char *file, int line, const std::string &msg) {
  throw InternalError(std::string(file) + ":" + std::to_string(line) + ": " + msg);
}

} // namespace gradc
