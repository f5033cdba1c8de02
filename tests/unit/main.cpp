//===- tests/unit/main.cpp - The doctest main for gradc_unit_tests --------===//
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
