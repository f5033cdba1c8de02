//===- runtime/HostArray.cpp - Typed n-d arrays in host memory ------------===//

#include "runtime/HostArray.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <type_traits>

namespace gradc::runtime {

namespace {

/// Calls `fn(T{})` with the C++ type of elements of type `t`, so that one
/// generic lambda covers every ElemType.
template <class Fn> void dispatch(ElemType t, Fn &&fn) {
  switch (t) {
  case ElemType::F32:
    return fn(float{});
  case ElemType::F64:
    return fn(double{});
  case ElemType::I8:
    return fn(int8_t{});
  case ElemType::I16:
    return fn(int16_t{});
  case ElemType::I32:
    return fn(int32_t{});
  case ElemType::I64:
    return fn(int64_t{});
  case ElemType::U8:
    return fn(uint8_t{});
  case ElemType::U16:
    return fn(uint16_t{});
  case ElemType::U32:
    return fn(uint32_t{});
  case ElemType::Bool:
    return fn(bool{});
  }
  GRADC_UNREACHABLE("invalid ElemType");
}

/// Shortest text that reads back as the same value: "0.1", "1e+39", "7".
template <class T> std::string valueStr(T v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v ? "true" : "false";
  } else {
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, res.ptr);
  }
}

/// Converts `n` elements, or explains the first one that does not survive.
/// Every supported integer type fits in int64, so integers are compared
/// there; floats travel as double.
template <class Src, class Dst>
bool convertValues(const Src *in, Dst *out, int64_t n, std::string &whyNot) {
  constexpr bool srcFloat = std::is_floating_point_v<Src>;
  constexpr bool dstFloat = std::is_floating_point_v<Dst>;
  constexpr ElemType dstType = elemTypeOf<Dst>();
  auto fail = [&](int64_t i, const char *what) {
    whyNot = "value " + valueStr(in[i]) + " at index " + std::to_string(i) + " " + what + " " +
             elemTypeName(dstType);
    return false;
  };

  if constexpr (srcFloat && !dstFloat) {
    // Truncating 2.7 to 2 would be a silent change of meaning.
    whyNot = std::string("cannot convert ") + elemTypeName(elemTypeOf<Src>()) + " values to " +
             elemTypeName(dstType) + " (floating-point to integer conversion is not exact)";
    return false;
  } else if constexpr (srcFloat) {
    // f32 -> f64 is exact; f64 -> f32 rounds, which is accepted, but must not
    // turn a finite value into an infinity.
    for (int64_t i = 0; i < n; ++i) {
      auto v = static_cast<Dst>(in[i]);
      if (std::isinf(v) && std::isfinite(in[i]))
        return fail(i, "overflows");
      out[i] = v;
    }
    return true;
  } else if constexpr (dstFloat) {
    // Integers are exact in a float up to 2^(mantissa bits + 1).
    constexpr int64_t exactLimit = int64_t(1) << std::numeric_limits<Dst>::digits;
    for (int64_t i = 0; i < n; ++i) {
      auto v = static_cast<int64_t>(in[i]);
      if (v > exactLimit || v < -exactLimit)
        return fail(i, "is not exactly representable in");
      out[i] = static_cast<Dst>(v);
    }
    return true;
  } else {
    constexpr int64_t lo = std::is_same_v<Dst, bool> ? 0 : int64_t(std::numeric_limits<Dst>::min());
    constexpr int64_t hi = std::is_same_v<Dst, bool> ? 1 : int64_t(std::numeric_limits<Dst>::max());
    for (int64_t i = 0; i < n; ++i) {
      auto v = static_cast<int64_t>(in[i]);
      if (v < lo || v > hi)
        return fail(i, "does not fit in");
      out[i] = static_cast<Dst>(v);
    }
    return true;
  }
}

} // namespace

size_t elemSize(ElemType t) {
  size_t size = 0;
  dispatch(t, [&](auto v) { size = sizeof(v); });
  return size;
}

const char *elemTypeName(ElemType t) {
  switch (t) {
  case ElemType::F32:
    return "f32";
  case ElemType::F64:
    return "f64";
  case ElemType::I8:
    return "i8";
  case ElemType::I16:
    return "i16";
  case ElemType::I32:
    return "i32";
  case ElemType::I64:
    return "i64";
  case ElemType::U8:
    return "u8";
  case ElemType::U16:
    return "u16";
  case ElemType::U32:
    return "u32";
  case ElemType::Bool:
    return "bool";
  }
  GRADC_UNREACHABLE("invalid ElemType");
}

bool isFloat(ElemType t) { return t == ElemType::F32 || t == ElemType::F64; }

int64_t HostArray::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::string HostArray::typeStr() const {
  std::string s = elemTypeName(type);
  s += '[';
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? "," : "") + std::to_string(shape[i]);
  return s + ']';
}

HostArray HostArray::zeros(ElemType type, std::vector<int64_t> shape) {
  HostArray a;
  a.type = type;
  a.shape = std::move(shape);
  for (int64_t d : a.shape)
    GRADC_ASSERT(d >= 0, "negative dimension in HostArray::zeros");
  a.bytes.resize(static_cast<size_t>(a.numElements()) * elemSize(type));
  return a;
}

HostArray convertTo(const HostArray &a, ElemType target, std::string &whyNot) {
  whyNot.clear();
  if (a.type == target)
    return a;
  HostArray out = HostArray::zeros(target, a.shape);
  bool ok = false;
  dispatch(a.type, [&](auto src) {
    using Src = decltype(src);
    dispatch(target, [&](auto dst) {
      using Dst = decltype(dst);
      ok = convertValues(a.data<Src>(), out.data<Dst>(), a.numElements(), whyNot);
    });
  });
  return ok ? out : HostArray();
}

} // namespace gradc::runtime
