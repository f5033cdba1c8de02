//===- runtime/Random.h - Seeded counter-based random numbers ---*- C++ -*-===//
//
// Every random number gradc draws (initial weights, noise tensors, random test
// inputs) comes from one generator: Philox4x32-10 (Salmon et al., "Parallel
// Random Numbers: As Easy as 1, 2, 3", SC'11), a counter-based generator.
// Draw number n of stream s under seed k is a pure function of (k, s, n):
//
//   key     = (lo32(k), hi32(k))
//   counter = (lo32(n), hi32(n), lo32(s), hi32(s))
//   block   = Philox4x32-10(counter, key) = four 32-bit words w0..w3
//
// Each draw consumes exactly one block, whatever its kind:
//   uniform double in [0, 1): ((w0 << 21) | (w1 >> 11)) * 2^-53 (53 bits),
//   uniform float  in [0, 1): (w0 >> 8) * 2^-24 (24 bits),
//   normal(0, 1): Box–Muller on u1 = 1 - U(w0, w1) in (0, 1] and
//                 u2 = U(w2, w3): sqrt(-2 ln u1) * cos(2 pi u2); the sine
//                 output is discarded, so that a normal never depends on
//                 the draw next to it.
// Since a value depends only on its position, a buffer filled in parallel
// (each thread starting at its own position) holds the same numbers as one
// filled serially, on any thread count; and the whole state of a generator is
// three integers (seed, stream, position) that a checkpoint stores.
// docs/random.md describes the streams gradc uses.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace gradc::runtime {

/// The Philox4x32-10 block function: ten rounds over `counter` under `key`.
std::array<uint32_t, 4> philox4x32(std::array<uint32_t, 4> counter, std::array<uint32_t, 2> key);

/// Stream of parameter and state initialization (declaration order).
inline constexpr uint64_t kParamStream = 0;
/// Stream of random inputs drawn by tests and `gradc gradcheck`.
inline constexpr uint64_t kInputStream = 1;
/// Stream of the noise tensors of call number `call` (0, 1, ... per
/// session): the top bit marks noise streams, so they never meet the
/// small-numbered streams above.
constexpr uint64_t noiseStream(uint64_t call) { return (uint64_t(1) << 63) | call; }

/// Everything that determines a generator's future output.
struct RandomState {
  uint64_t seed = 0;
  uint64_t stream = 0;
  uint64_t position = 0; ///< index of the next draw (block) in the stream
  bool operator==(const RandomState &o) const {
    return seed == o.seed && stream == o.stream && position == o.position;
  }
};

/// A position in one Philox stream; each draw takes the block at the
/// current position and advances it by one.
class Random {
public:
  explicit Random(uint64_t seed, uint64_t stream = 0, uint64_t position = 0)
      : s_{seed, stream, position} {}
  explicit Random(RandomState s) : s_(s) {}

  /// The state to save; setState(state()) resumes exactly here.
  RandomState state() const { return s_; }
  void setState(RandomState s) { s_ = s; }
  /// Skips `n` draws, as if they had been made.
  void skip(uint64_t n) { s_.position += n; }

  /// The raw block of the next draw.
  std::array<uint32_t, 4> nextBlock();
  /// Uniform in [0, 1) with 53 random bits.
  double uniform();
  /// Uniform in [0, 1) with 24 random bits.
  float uniformFloat();
  /// Standard normal (Box–Muller, cosine output only).
  double normal();

  /// out[i] = the i-th next uniform double; advances by n.
  void fillUniform(double *out, size_t n);
  /// out[i] = the i-th next normal; advances by n.
  void fillNormal(double *out, size_t n);

  /// The value of draw `position` of a stream, without a generator: what a
  /// parallel fill computes for each element.
  static double uniformAt(const RandomState &at);
  static double normalAt(const RandomState &at);

private:
  RandomState s_;
};

} // namespace gradc::runtime
