//===- tests/unit/test_lr_schedule.cpp - Learning-rate schedules -----------===//
#include "runtime/LrSchedule.h"

#include <doctest/doctest.h>

#include <cmath>

using namespace gradc::runtime;

namespace {

LrSchedule parsed(const std::string &spec, double lr0) {
  std::string error;
  auto s = LrSchedule::parse(spec, lr0, error);
  REQUIRE_MESSAGE(s, error);
  return *s;
}

} // namespace

TEST_CASE("learning-rate schedules: constant, step decay, decay on plateau") {
  LrSchedule c = parsed("constant", 0.1);
  CHECK(c.rate(0) == 0.1);
  CHECK(c.endEpoch(0, 1.0) == 0.1);

  LrSchedule s = parsed("step:2:10", 1.0);
  double rates[5];
  for (int e = 0; e < 5; ++e)
    rates[e] = s.rate(e);
  CHECK(rates[0] == 1.0);
  CHECK(rates[1] == 1.0);
  CHECK(rates[2] == doctest::Approx(0.1));
  CHECK(rates[4] == doctest::Approx(0.01));
  CHECK(s.endEpoch(1, 5.0) == doctest::Approx(0.1)); // the rate of epoch 2

  // Divided after every epoch that does not beat the best loss so far.
  LrSchedule p = parsed("plateau:2", 0.8);
  CHECK(p.endEpoch(0, 3.0) == 0.8); // 3.0 is the best so far
  CHECK(p.endEpoch(1, 2.5) == 0.8); // improves
  CHECK(p.endEpoch(2, 2.6) == 0.4); // does not
  CHECK(p.endEpoch(3, 2.5) == 0.2); // equal is not better
  CHECK(p.endEpoch(4, NAN) == 0.1); // NaN never improves
  CHECK(p.endEpoch(5, 1.0) == 0.1);
  CHECK(p.rate(6) == 0.1);
  // The state a checkpoint keeps resumes the schedule exactly.
  LrSchedule q = parsed("plateau:2", 0.8);
  q.setState(p.state());
  CHECK(q.endEpoch(6, 1.5) == p.endEpoch(6, 1.5));
  CHECK(p.describe() == "plateau:2");
  CHECK(s.describe() == "step:2:10");
}

TEST_CASE("malformed learning-rate schedules say what was expected") {
  struct Case {
    const char *spec, *message;
  } cases[] = {
      {"linear", "expected constant, step:EVERY:FACTOR or plateau:FACTOR"},
      {"step:10", "expected step:EVERY:FACTOR"},
      {"step:0:2", "EVERY must be a whole number of epochs, at least 1"},
      {"step:x:2", "EVERY must be a whole number"},
      {"step:10:0.5", "FACTOR must be a number above 1"},
      {"plateau:", "FACTOR must be a number above 1"},
      {"plateau:inf", "FACTOR must be a number above 1"},
  };
  for (const Case &c : cases) {
    INFO(c.spec);
    std::string error;
    CHECK_FALSE(LrSchedule::parse(c.spec, 0.1, error));
    CHECK(error.find(std::string("--lr-schedule ") + c.spec + ": ") == 0);
    CHECK_MESSAGE(error.find(c.message) != std::string::npos, error);
  }
}
