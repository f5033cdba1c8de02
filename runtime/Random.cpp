//===- runtime/Random.cpp - Seeded counter-based random numbers -----------===//
#include "runtime/Random.h"

#include <cmath>
#include <numbers>

namespace gradc::runtime {

// The multipliers and Weyl key increments of Philox4x32 (Salmon et al.).
static constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u;
static constexpr uint32_t kBump0 = 0x9E3779B9u, kBump1 = 0xBB67AE85u;

std::array<uint32_t, 4> philox4x32(std::array<uint32_t, 4> c, std::array<uint32_t, 2> k) {
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k[0] += kBump0;
      k[1] += kBump1;
    }
    uint64_t p0 = uint64_t(kMul0) * c[0];
    uint64_t p1 = uint64_t(kMul1) * c[2];
    uint32_t hi0 = uint32_t(p0 >> 32), lo0 = uint32_t(p0);
    uint32_t hi1 = uint32_t(p1 >> 32), lo1 = uint32_t(p1);
    c = {hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0};
  }
  return c;
}

static std::array<uint32_t, 4> blockAt(const RandomState &s) {
  return philox4x32({uint32_t(s.position), uint32_t(s.position >> 32), uint32_t(s.stream),
                     uint32_t(s.stream >> 32)},
                    {uint32_t(s.seed), uint32_t(s.seed >> 32)});
}

/// 53 bits from two words, scaled into [0, 1).
static double unitDouble(uint32_t a, uint32_t b) {
  uint64_t bits = (uint64_t(a) << 21) | (b >> 11);
  return double(bits) * 0x1p-53;
}

static double normalFromBlock(const std::array<uint32_t, 4> &w) {
  // 1 - U keeps u1 in (0, 1], so the logarithm is finite.
  double u1 = 1.0 - unitDouble(w[0], w[1]);
  double u2 = unitDouble(w[2], w[3]);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

std::array<uint32_t, 4> Random::nextBlock() {
  auto w = blockAt(s_);
  ++s_.position;
  return w;
}

double Random::uniform() {
  auto w = nextBlock();
  return unitDouble(w[0], w[1]);
}

float Random::uniformFloat() {
  auto w = nextBlock();
  return float(w[0] >> 8) * 0x1p-24f;
}

double Random::normal() { return normalFromBlock(nextBlock()); }

void Random::fillUniform(double *out, size_t n) {
  for (size_t i = 0; i < n; ++i)
    out[i] = uniform();
}

void Random::fillNormal(double *out, size_t n) {
  for (size_t i = 0; i < n; ++i)
    out[i] = normal();
}

double Random::uniformAt(const RandomState &at) {
  auto w = blockAt(at);
  return unitDouble(w[0], w[1]);
}

double Random::normalAt(const RandomState &at) { return normalFromBlock(blockAt(at)); }

} // namespace gradc::runtime
