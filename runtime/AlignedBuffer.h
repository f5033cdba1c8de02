//===- runtime/AlignedBuffer.h - 64-byte aligned owned bytes ----*- C++ -*-===//
//
// The memory a session's arena lives in: one allocation that a static memory
// plan carves into tensors. 64-byte alignment puts every tensor whose plan
// offset is a multiple of 64 on its own cache lines and lets generated code
// use aligned vector loads.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstddef>

namespace gradc::runtime {

/// An owning, movable (not copyable) block of bytes whose start is aligned to
/// kAlignment. The allocation is rounded up to a multiple of kAlignment, so
/// the bytes between size() and capacity() may be touched by vector loads
/// without faulting. An empty buffer holds no allocation: data() is null.
class AlignedBuffer {
public:
  /// The alignment of data(), in bytes: a cache line, and the widest vector.
  static constexpr size_t kAlignment = 64;

  /// An empty buffer.
  AlignedBuffer() noexcept = default;
  /// A buffer of `bytes` bytes, all zero if `zero` (and so is the padding up
  /// to the next multiple of kAlignment), otherwise indeterminate.
  /// Throws std::bad_alloc if the memory cannot be had.
  explicit AlignedBuffer(size_t bytes, bool zero = true);
  /// Frees the allocation.
  ~AlignedBuffer();
  /// Takes `other`'s allocation and leaves `other` empty.
  AlignedBuffer(AlignedBuffer &&other) noexcept;
  /// Frees this buffer's allocation, takes `other`'s, leaves `other` empty.
  AlignedBuffer &operator=(AlignedBuffer &&other) noexcept;
  AlignedBuffer(const AlignedBuffer &) = delete;
  AlignedBuffer &operator=(const AlignedBuffer &) = delete;

  /// The first byte (aligned to kAlignment), or null when empty.
  std::byte *data() noexcept { return data_; }
  /// The first byte (aligned to kAlignment), or null when empty.
  const std::byte *data() const noexcept { return data_; }
  /// The size asked for, in bytes.
  size_t size() const noexcept { return size_; }
  /// The bytes actually allocated: size() rounded up to kAlignment, or more
  /// after a resize() that shrank in place.
  size_t capacity() const noexcept { return capacity_; }
  /// True when size() is 0.
  bool empty() const noexcept { return size_ == 0; }

  /// Makes the buffer `bytes` bytes long; 0 frees the allocation. The old
  /// contents are not kept: with `zero` every byte is zero (the padding up
  /// to the next multiple of kAlignment too), otherwise the contents are
  /// indeterminate. The allocation is reused when it is large enough and
  /// not more than about twice what is needed; otherwise a new one is made
  /// before the old is freed, so on std::bad_alloc the buffer is unchanged.
  void resize(size_t bytes, bool zero);

private:
  std::byte *data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

} // namespace gradc::runtime
