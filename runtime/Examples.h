//===- runtime/Examples.h - Data fitted to a model's inputs, in batches ----===//
//
// A DataSource (runtime/DataSource.h) fitted to the inputs of a model:
// one array per input holding N examples of the input's per-example shape
// (its shape without the batch axis), in the input's element type. Then
// batches of B examples in a seeded order.
//
// Fitting (the rules `gradc train` documents):
//  - every input needs data under its name, and every array must feed an
//    input; an example's elements are laid into the input's per-example
//    shape in C order, so their counts must agree (IDX [N, 28, 28] feeds
//    x[B, 784]);
//  - an f32 input takes float data as is, integer data when exact, and
//    uint8 IDX data divided by 255; an int input takes integer data that
//    fits int32, never floats;
//  - a text feeds an int input of per-example length T with consecutive
//    windows of T bytes (text+K: starting K bytes later); there are
//    floor((L - K) / T) of them;
//  - every input must have the same number of examples; where texts are
//    involved, the fewest windows any of them yields.
//
// Order: epoch e visits the examples in a permutation drawn (Fisher–Yates)
// from the seeded generator's stream shuffleStream(e), so a run resumed at
// epoch e sees the same order as an uninterrupted one. Batches are
// consecutive runs of B in that order; the last N mod B examples of the
// order form a partial batch, which training skips (another permutation
// brings other examples to the end next epoch) and evaluation runs at its
// own size.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/DataSource.h"
#include "runtime/HostArray.h"

#include <optional>
#include <string>
#include <vector>

namespace gradc::runtime {

/// An input a model declares: name, element type (F32 or I32) and its
/// shape without the leading batch axis.
struct InputSlot {
  std::string name;
  ElemType type = ElemType::F32;
  std::vector<int64_t> exampleShape;
};

/// Data fitted to a model's inputs.
struct Examples {
  std::vector<InputSlot> inputs;
  std::vector<HostArray> arrays; ///< per input: [count, exampleShape...]
  int64_t count = 0;

  /// The rows `order[first .. first + n)` of every input, as arrays of
  /// shape [n, exampleShape...]: a batch.
  std::vector<HostArray> gather(const std::vector<int64_t> &order, int64_t first, int64_t n) const;
};

/// Fits `ds` to `inputs` (file comment); errors name the source, the input
/// and the file.
std::optional<Examples> fitExamples(const DataSource &ds, const std::vector<InputSlot> &inputs,
                                    std::string &error);

/// Stream of epoch e's example order.
constexpr uint64_t shuffleStream(uint64_t epoch) { return (uint64_t(1) << 62) | epoch; }

/// The order of epoch `epoch`: a permutation of 0..n-1 drawn from `seed`.
std::vector<int64_t> epochOrder(int64_t n, uint64_t seed, uint64_t epoch);

} // namespace gradc::runtime
