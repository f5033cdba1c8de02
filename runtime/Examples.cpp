//===- runtime/Examples.cpp - Data fitted to a model's inputs, in batches --===//
#include "runtime/Examples.h"

#include "runtime/Random.h"

#include <algorithm>
#include <cstring>
#include <numeric>

namespace gradc::runtime {

namespace {

int64_t product(const std::vector<int64_t> &shape, size_t from = 0) {
  int64_t n = 1;
  for (size_t i = from; i < shape.size(); ++i)
    n *= shape[i];
  return n;
}

std::string shapeText(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

/// `col`'s data for `slot`, as [count, exampleShape...] of the slot's type.
std::optional<HostArray> fitColumn(const DataSource &ds, const DataColumn &col,
                                   const InputSlot &slot, int64_t &count, std::string &error) {
  std::string where = "data '" + ds.spec + "': input '" + slot.name + "' (" + col.file + ")";
  int64_t per = product(slot.exampleShape);
  std::vector<int64_t> shape{0};
  shape.insert(shape.end(), slot.exampleShape.begin(), slot.exampleShape.end());
  if (col.text) {
    if (slot.type != ElemType::I32) {
      error = where + ": a text is byte tokens, which feed an int input, not an f32 one";
      return std::nullopt;
    }
    int64_t bytes = col.array.numElements() - col.textOffset;
    count = per == 0 ? 0 : std::max<int64_t>(0, bytes) / per;
    shape[0] = count;
    HostArray a = HostArray::zeros(ElemType::I32, shape);
    const uint8_t *src = col.array.u8() + col.textOffset;
    for (int64_t i = 0; i < count * per; ++i)
      a.i32()[i] = src[i];
    return a;
  }
  count = col.array.shape[0];
  int64_t have = product(col.array.shape, 1);
  if (have != per) {
    std::vector<int64_t> example(col.array.shape.begin() + 1, col.array.shape.end());
    error = where + ": examples of shape " + shapeText(example) + " (" + std::to_string(have) +
            " elements), but the input's examples are " + shapeText(slot.exampleShape) + " (" +
            std::to_string(per) + ")";
    return std::nullopt;
  }
  shape[0] = count;
  if (slot.type == ElemType::F32 && col.fromIdx) {
    HostArray a = HostArray::zeros(ElemType::F32, shape);
    for (int64_t i = 0; i < a.numElements(); ++i)
      a.f32()[i] = static_cast<float>(col.array.u8()[i]) / 255.0f;
    return a;
  }
  if (slot.type == ElemType::I32 && isFloat(col.array.type)) {
    error = where + ": " + elemTypeName(col.array.type) +
            " values for an int input (labels and indices must be integers)";
    return std::nullopt;
  }
  std::string why;
  HostArray a = convertTo(col.array, slot.type, why);
  if (!why.empty()) {
    error = where + ": " + why;
    return std::nullopt;
  }
  a.shape = shape;
  return a;
}

} // namespace

std::optional<Examples> fitExamples(const DataSource &ds, const std::vector<InputSlot> &inputs,
                                    std::string &error) {
  error.clear();
  for (const DataColumn &col : ds.columns) {
    bool known = false;
    for (const InputSlot &s : inputs)
      known = known || s.name == col.name;
    if (!known) {
      std::string names;
      for (const InputSlot &s : inputs)
        names += (names.empty() ? "" : ", ") + s.name;
      error = "data '" + ds.spec + "': '" + col.name + "' (" + col.file +
              ") is not an input of the model (its inputs: " + names + ")";
      return std::nullopt;
    }
  }
  Examples ex;
  ex.inputs = inputs;
  int64_t arrays = -1, texts = -1;
  std::string arraysFrom;
  for (const InputSlot &slot : inputs) {
    const DataColumn *col = ds.find(slot.name);
    if (!col) {
      error = "data '" + ds.spec + "': nothing for input '" + slot.name + "'";
      return std::nullopt;
    }
    int64_t count = 0;
    std::optional<HostArray> a = fitColumn(ds, *col, slot, count, error);
    if (!a)
      return std::nullopt;
    if (col->text) {
      texts = texts < 0 ? count : std::min(texts, count);
    } else if (arrays < 0) {
      arrays = count;
      arraysFrom = slot.name;
    } else if (count != arrays) {
      error = "data '" + ds.spec + "': input '" + slot.name + "' has " + std::to_string(count) +
              " examples, input '" + arraysFrom + "' " + std::to_string(arrays);
      return std::nullopt;
    }
    ex.arrays.push_back(std::move(*a));
  }
  if (arrays >= 0 && texts >= 0 && arrays != texts) {
    error = "data '" + ds.spec + "': the texts give " + std::to_string(texts) +
            " windows, input '" + arraysFrom + "' has " + std::to_string(arrays) + " examples";
    return std::nullopt;
  }
  ex.count = arrays >= 0 ? arrays : std::max<int64_t>(texts, 0);
  // Texts of different offsets yield different numbers of windows: keep the
  // fewest.
  for (HostArray &a : ex.arrays)
    if (a.shape[0] > ex.count) {
      a.shape[0] = ex.count;
      a.bytes.resize(static_cast<size_t>(ex.count * product(a.shape, 1)) * elemSize(a.type));
    }
  return ex;
}

std::vector<HostArray> Examples::gather(const std::vector<int64_t> &order, int64_t first,
                                        int64_t n) const {
  std::vector<HostArray> out;
  for (size_t k = 0; k < arrays.size(); ++k) {
    const HostArray &a = arrays[k];
    std::vector<int64_t> shape = a.shape;
    shape[0] = n;
    HostArray b = HostArray::zeros(a.type, shape);
    size_t row = static_cast<size_t>(product(a.shape, 1)) * elemSize(a.type);
    for (int64_t i = 0; i < n; ++i)
      std::memcpy(b.bytes.data() + i * row, a.bytes.data() + order[first + i] * row, row);
    out.push_back(std::move(b));
  }
  return out;
}

std::vector<int64_t> epochOrder(int64_t n, uint64_t seed, uint64_t epoch) {
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  Random r(seed, shuffleStream(epoch));
  for (int64_t i = n - 1; i > 0; --i) {
    int64_t j = static_cast<int64_t>(r.uniform() * static_cast<double>(i + 1));
    std::swap(order[i], order[std::min(j, i)]);
  }
  return order;
}

} // namespace gradc::runtime
