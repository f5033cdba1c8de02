//===- runtime/AlignedBuffer.cpp - 64-byte aligned owned bytes ------------===//
#include "runtime/AlignedBuffer.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

namespace gradc::runtime {

/// `bytes` rounded up to a multiple of kAlignment, as std::aligned_alloc
/// requires; throws std::bad_alloc where that overflows size_t.
static size_t roundUp(size_t bytes) {
  constexpr size_t a = AlignedBuffer::kAlignment;
  if (bytes > SIZE_MAX - (a - 1))
    throw std::bad_alloc();
  return (bytes + a - 1) / a * a;
}

/// A fresh allocation of `capacity` bytes (a nonzero multiple of
/// kAlignment); throws std::bad_alloc on failure.
static std::byte *allocate(size_t capacity) {
  void *p = std::aligned_alloc(AlignedBuffer::kAlignment, capacity);
  if (!p)
    throw std::bad_alloc();
  return static_cast<std::byte *>(p);
}

AlignedBuffer::AlignedBuffer(size_t bytes, bool zero) { resize(bytes, zero); }

AlignedBuffer::~AlignedBuffer() { std::free(data_); }

AlignedBuffer::AlignedBuffer(AlignedBuffer &&other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)),
      capacity_(std::exchange(other.capacity_, 0)) {}

AlignedBuffer &AlignedBuffer::operator=(AlignedBuffer &&other) noexcept {
  if (this != &other) {
    std::free(data_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

void AlignedBuffer::resize(size_t bytes, bool zero) {
  if (bytes == 0) {
    std::free(data_);
    data_ = nullptr;
    size_ = capacity_ = 0;
    return;
  }
  size_t need = roundUp(bytes);
  // Keep the allocation unless it is too small, or so large that holding on
  // to it would waste more memory than the new size itself.
  if (need > capacity_ || capacity_ / 2 > need) {
    std::byte *fresh = allocate(need);
    std::free(data_);
    data_ = fresh;
    capacity_ = need;
  }
  size_ = bytes;
  // The rounding padding too, so that a vector load over a tensor's tail
  // reads zeros rather than garbage.
  if (zero)
    std::memset(data_, 0, need);
}

} // namespace gradc::runtime
