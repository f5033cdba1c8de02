//===- tests/unit/test_npy.cpp - .npy/.npz I/O and array conversions ------===//
//
// Every test case name contains "npy", so `--test-case=*npy*` selects them
// all; the ctest entries that exchange files with real NumPy use that filter
// and set GRADC_NPY_FIXTURES or GRADC_NPY_WRITE_DIR.
//
//===----------------------------------------------------------------------===//

#include "runtime/NpyIO.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <zlib.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace gradc::runtime;
using namespace std::string_literals;
namespace fs = std::filesystem;

namespace {

std::span<const std::byte> bytesOf(const std::string &s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}
std::string textOf(const std::vector<std::byte> &v) {
  return std::string(reinterpret_cast<const char *>(v.data()), v.size());
}
bool contains(const std::string &s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

/// An .npy file with an arbitrary (possibly hostile) header dict.
std::string npyFile(const std::string &dict, const std::string &data, int major = 1) {
  std::string s = "\x93NUMPY";
  s += char(major);
  s += '\0';
  for (int i = 0; i < (major == 1 ? 2 : 4); ++i)
    s += char((dict.size() >> (8 * i)) & 0xff);
  return s + dict + data;
}

std::string le(uint64_t v, int bytes) {
  std::string s;
  for (int i = 0; i < bytes; ++i)
    s += char((v >> (8 * i)) & 0xff);
  return s;
}

/// A ZIP member for zipOf(): raw contents, optionally deflated, optionally
/// with the ZIP64 local header NumPy's savez writes (sizes 0xffffffff, the
/// real ones in an extra field).
struct Member {
  std::string name, content;
  bool deflate = false, numpyLocal = false;
};

std::string deflateRaw(const std::string &in) {
  z_stream zs{};
  REQUIRE(deflateInit2(&zs, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&zs, in.size()), '\0');
  zs.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(in.data()));
  zs.avail_in = uInt(in.size());
  zs.next_out = reinterpret_cast<Bytef *>(out.data());
  zs.avail_out = uInt(out.size());
  REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

/// A ZIP archive built independently of writeNpz, so the reader is tested
/// against archives it did not write and hostile ones can be patched in.
std::string zipOf(const std::vector<Member> &members) {
  std::string body, dir;
  for (const Member &m : members) {
    std::string data = m.deflate ? deflateRaw(m.content) : m.content;
    uint32_t crc = uint32_t(crc32(0, (const Bytef *)m.content.data(), uInt(m.content.size())));
    std::string common = le(20, 2) + le(0, 2) + le(m.deflate ? 8 : 0, 2) + le(0, 4) + le(crc, 4);
    std::string sizes = le(data.size(), 4) + le(m.content.size(), 4);
    std::string extra;
    if (m.numpyLocal)
      extra = le(1, 2) + le(16, 2) + le(m.content.size(), 8) + le(data.size(), 8);
    dir += le(0x02014b50, 4) + le(20, 2) + common + sizes + le(m.name.size(), 2) + le(0, 2) +
           le(0, 2) + le(0, 4) + le(0, 4) + le(body.size(), 4) + m.name;
    body += le(0x04034b50, 4) + common +
            (m.numpyLocal ? le(0xffffffff, 4) + le(0xffffffff, 4) : sizes) + le(m.name.size(), 2) +
            le(extra.size(), 2) + m.name + extra + data;
  }
  return body + dir + le(0x06054b50, 4) + le(0, 4) + le(members.size(), 2) + le(members.size(), 2) +
         le(dir.size(), 4) + le(body.size(), 4) + le(0, 2);
}

/// An array of `type` whose bytes follow a pattern, valid for every type
/// (bools get 0 and 1).
HostArray patterned(ElemType type, std::vector<int64_t> shape) {
  HostArray a = HostArray::zeros(type, std::move(shape));
  for (size_t i = 0; i < a.bytes.size(); ++i)
    a.bytes[i] = std::byte(type == ElemType::Bool ? i % 2 : (i * 37 + 11));
  return a;
}

/// A scratch directory removed at the end of the test.
struct TempDir {
  fs::path path = fs::temp_directory_path() / ("gradc_npy_test_" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
  std::string operator/(const std::string &name) const { return (path / name).string(); }
  /// Names of leftover temporary files from AtomicFile.
  bool hasTempFiles() const {
    for (auto &e : fs::directory_iterator(path))
      if (contains(e.path().filename().string(), ".tmp."))
        return true;
    return false;
  }
};

const ElemType kAllTypes[] = {ElemType::F32, ElemType::F64, ElemType::I8, ElemType::I16,
                              ElemType::I32, ElemType::I64, ElemType::U8, ElemType::U16,
                              ElemType::U32, ElemType::Bool};

} // namespace

TEST_CASE("npy: round trip of every dtype at ranks 0 to 4") {
  TempDir dir;
  const std::vector<std::vector<int64_t>> shapes = {{},        {5},          {2, 3},
                                                    {2, 1, 3}, {1, 2, 3, 2}, {0, 3}};
  for (ElemType type : kAllTypes) {
    for (const auto &shape : shapes) {
      HostArray a = patterned(type, shape);
      CAPTURE(a.typeStr());
      std::string error;
      std::vector<std::byte> bytes = encodeNpy(a);
      CHECK(npyHeader(a).size() % 64 == 0);
      std::optional<HostArray> b = readNpyBytes(bytes, "mem", error);
      REQUIRE_MESSAGE(b, error);
      CHECK(*b == a);

      std::string path = dir / "a.npy";
      REQUIRE_MESSAGE(writeNpy(path, a, error), error);
      std::optional<HostArray> c = readNpy(path, error);
      REQUIRE_MESSAGE(c, error);
      CHECK(*c == a);
    }
  }
  CHECK(!dir.hasTempFiles());
}

TEST_CASE("npy: header text matches NumPy's") {
  HostArray a = HostArray::fromValues<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  std::string h = npyHeader(a);
  CHECK(h.substr(10).starts_with("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"));
  CHECK(h.back() == '\n');
  CHECK(contains(npyHeader(HostArray::zeros(ElemType::Bool, {4})),
                 "'descr': '|b1', 'fortran_order': False, 'shape': (4,), }"));
  CHECK(contains(npyHeader(HostArray::zeros(ElemType::I64, {})), "'shape': (), }"));
}

TEST_CASE("npy: versions 2.0 and 3.0, big-endian, odd spacing") {
  std::string error;
  std::string data = le(0x3f800000, 4) + le(0x40000000, 4); // 1.0f, 2.0f
  for (int major : {2, 3}) {
    auto a = readNpyBytes(
        bytesOf(npyFile("{'descr':'<f4','fortran_order':False,'shape':(2,)}", data, major)), "v",
        error);
    REQUIRE_MESSAGE(a, error);
    CHECK(a->f32()[1] == 2.0f);
  }
  // Big-endian int32 1 and -2; key order and quotes are free in Python.
  auto b = readNpyBytes(bytesOf(npyFile("{ \"shape\" : ( 2 , ) ,\n \"fortran_order\": False, "
                                        "\"descr\": '>i4' }   \n",
                                        std::string("\0\0\0\1\xff\xff\xff\xfe", 8))),
                        "be", error);
  REQUIRE_MESSAGE(b, error);
  CHECK(b->type == ElemType::I32);
  CHECK(b->i32()[0] == 1);
  CHECK(b->i32()[1] == -2);
  // Python 2 wrote long dims with an L suffix.
  auto c = readNpyBytes(bytesOf(npyFile("{'descr': '|u1', 'fortran_order': False, "
                                        "'shape': (1L, 2L), }",
                                        "ab")),
                        "py2", error);
  REQUIRE_MESSAGE(c, error);
  CHECK(c->shape == std::vector<int64_t>{1, 2});
}

TEST_CASE("npy: hostile and malformed files give errors") {
  const std::string ok = "{'descr': '<f4', 'fortran_order': False, ";
  std::string rank100 = "(";
  for (int i = 0; i < 100; ++i)
    rank100 += "1,";
  rank100 += ")";
  struct Case {
    std::string bytes, expect;
  } cases[] = {
      {"", "not an .npy file"},
      {"PK\3\4 this is a zip", "not an .npy file"},
      {"\x93NUMPX\1\0\0\0"s, "not an .npy file"},
      {"\x93NUM", "truncated header"},
      {"\x93NUMPY\1\0\xff"s, "truncated header"},
      {npyFile(ok + "'shape': (1,), }", "").substr(0, 30), "truncated header"},
      {"\x93NUMPY\2\0\xff\xff\xff\xff{"s, "header length 4294967295 exceeds"},
      {"\x93NUMPY\4\0\0\0"s, "unsupported .npy format version 4.0"},
      {npyFile(ok + "'shape': (99999999999999999999,), }", ""), "exceeds 2^31-1"},
      {npyFile(ok + "'shape': (2147483648,), }", ""), "exceeds 2^31-1"},
      {npyFile(ok + "'shape': (65536, 65536), }", ""), "more than 2^31 elements"},
      {npyFile(ok + "'shape': " + rank100 + ", }", ""), "rank exceeds the limit of 16"},
      {npyFile(ok + "'shape': (-1, 3), }", ""), "negative dimension"},
      {npyFile(ok + "'shape': ('a',), }", ""), "expected a dimension"},
      {npyFile(ok + "'shape': (2,", ""), "expected a dimension"},
      {npyFile("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", std::string(16, '\0')),
       "Fortran order"},
      {npyFile("{'descr': '<f2', 'fortran_order': False, 'shape': (1,), }", "ab"),
       "unsupported dtype '<f2' (float16"},
      {npyFile("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", "12345678"), "pickled"},
      {npyFile("{'descr': [('a', '<f4')], 'fortran_order': False, "
               "'shape': (1,), }",
               "1234"),
       "structured dtypes"},
      {npyFile(ok + "}", ""), "missing key 'shape'"},
      {npyFile("{'descr': '', 'fortran_order': False, 'shape': (), }", ""), "unsupported dtype ''"},
      {npyFile("{'descr': '<u8', 'fortran_order': False, 'shape': (), }", "12345678"), "(uint64"},
      {npyFile(ok + "'shape': (1,), 'extra': 1}", "1234"), "unexpected key 'extra'"},
      {npyFile(ok + "'shape': (1,), } junk", "1234"), "after the closing"},
      {npyFile("{'descr: '<f4'}", ""), "expected ':'"},
      {npyFile("{'descr': '<f4, }", ""), "unterminated string"},
      {npyFile(ok + "'fortran_order': False, 'shape': (1,)}", "1234"),
       "unexpected key 'fortran_order'"},
      {npyFile(ok + "'shape': (4,), }", std::string(8, '\0')),
       "truncated data (expected 16 bytes, found 8)"},
      {npyFile(ok + "'shape': (4,), }", std::string(20, '\0')),
       "trailing data (expected 16 bytes, found 20)"},
      {npyFile("{'descr': '|b1', 'fortran_order': False, 'shape': (2,), }", std::string("\1\2", 2)),
       "bool element 1 has byte value 2"},
  };
  for (const Case &c : cases) {
    CAPTURE(c.bytes);
    std::string error;
    CHECK(!readNpyBytes(bytesOf(c.bytes), "bad.npy", error));
    CHECK_MESSAGE(contains(error, "bad.npy: " + std::string()), error);
    CHECK_MESSAGE(contains(error, c.expect), error);
  }
}

TEST_CASE("npy: files on disk: missing, directory, truncated") {
  TempDir dir;
  std::string error;
  CHECK(!readNpy(dir / "missing.npy", error));
  CHECK(contains(error, "missing.npy: cannot open: No such file"));
  CHECK(!readNpy(dir.path.string(), error));
  CHECK(contains(error, "not a regular file"));
  HostArray a = patterned(ElemType::F32, {1024});
  std::string bytes = textOf(encodeNpy(a));
  std::ofstream(dir / "short.npy", std::ios::binary) << bytes.substr(0, bytes.size() - 100);
  CHECK(!readNpy(dir / "short.npy", error));
  CHECK(error == dir / "short.npy" + ": truncated data (expected 4096 bytes, found 3996)");
}

TEST_CASE("npy: npz round trip keeps member order") {
  TempDir dir;
  NamedArrays arrays = {
      {"a1.W", patterned(ElemType::F32, {3, 2})},
      {"a1.b", patterned(ElemType::F32, {2})},
      {"step", HostArray::fromValues<int64_t>({}, {42})},
      {"mask", patterned(ElemType::Bool, {2, 2, 2})},
      {"empty", patterned(ElemType::F64, {0})},
  };
  std::string error;
  REQUIRE_MESSAGE(writeNpz(dir / "p.npz", arrays, error), error);
  std::optional<NamedArrays> back = readNpz(dir / "p.npz", error);
  REQUIRE_MESSAGE(back, error);
  CHECK(*back == arrays);
  CHECK(!dir.hasTempFiles());

  REQUIRE(writeNpz(dir / "none.npz", {}, error));
  back = readNpz(dir / "none.npz", error);
  REQUIRE_MESSAGE(back, error);
  CHECK(back->empty());

  CHECK(!writeNpz(dir / "dup.npz", {arrays[0], arrays[0]}, error));
  CHECK(contains(error, "repeated"));
  CHECK(!fs::exists(dir / "dup.npz"));
}

TEST_CASE("npy: npz with stored, deflated and NumPy-style members") {
  HostArray big = HostArray::zeros(ElemType::F32, {64, 64});
  big.f32()[7] = 3.0f;
  std::string bigNpy = textOf(encodeNpy(big));
  std::string smallNpy = textOf(encodeNpy(HostArray::fromValues<int32_t>({3}, {1, -2, 3})));
  std::string zip = zipOf({{"x.npy", bigNpy, true, true},
                           {"y.npy", smallNpy, false, true},
                           {"z.npy", bigNpy, true, false}});
  CHECK(zip.size() < bigNpy.size()); // deflate really ran
  std::string error;
  auto arrays = readNpzBytes(bytesOf(zip), "mixed.npz", error);
  REQUIRE_MESSAGE(arrays, error);
  REQUIRE(arrays->size() == 3);
  CHECK((*arrays)[0].first == "x");
  CHECK((*arrays)[0].second == big);
  CHECK((*arrays)[1].second.i32()[1] == -2);
  CHECK((*arrays)[2].first == "z");
}

TEST_CASE("npy: hostile npz archives give errors") {
  std::string npy = textOf(encodeNpy(HostArray::fromValues<float>({4}, {1, 2, 3, 4})));
  std::string good = zipOf({{"a1.W.npy", npy}});
  size_t dirAt = good.size() - 22 - (46 + 8); // central directory entry
  auto patched = [&](size_t at, std::string bytes) {
    std::string z = good;
    z.replace(at, bytes.size(), bytes);
    return z;
  };
  std::string flipped = good;
  flipped[30 + 8 + 70] ^= 1; // a data byte of the stored member

  struct Case {
    std::string bytes, expect;
  } cases[] = {
      {"", "not a ZIP archive"},
      {npy, "not a ZIP archive"},
      {flipped, "member 'a1.W': CRC-32 mismatch"},
      {patched(dirAt + 20, le(5000, 4) + le(5000, 4)),
       "member 'a1.W': truncated member data (expected 5000 bytes"},
      {patched(dirAt + 42, le(1u << 30, 4)), "bad local header"},
      {patched(good.size() - 6, le(1u << 30, 4)), "out of bounds"},
      {patched(good.size() - 12, le(0xffff, 2) + le(0xffff, 2)), "ZIP64"},
      {patched(dirAt + 20, le(0xffffffff, 4)), "ZIP64 members"},
      {patched(dirAt + 10, le(12, 2)), "compression method 12"},
      {patched(dirAt + 8, le(1, 2)), "encrypted"},
      {patched(dirAt, "QQQQ"), "bad central directory entry 0"},
      {zipOf({{"a.txt", "hello"}}), "member 'a.txt' is not an .npy file"},
      {zipOf({{"a.npy", npy}, {"a.npy", npy}}), "member 'a': appears twice"},
      {zipOf({{"a1.W.npy", npy.substr(0, npy.size() - 4)}}),
       "bad.npz: member 'a1.W': truncated data (expected 16 bytes, found 12)"},
  };
  for (const Case &c : cases) {
    std::string error;
    CHECK(!readNpzBytes(bytesOf(c.bytes), "bad.npz", error));
    CHECK_MESSAGE(contains(error, c.expect), error);
  }

  // A deflated member claiming 4 GiB from a few bytes, and one whose
  // compressed bytes are garbage.
  std::string deflated = zipOf({{"d.npy", npy, true}});
  size_t dAt = deflated.size() - 22 - (46 + 5);
  std::string bomb = deflated;
  bomb.replace(dAt + 24, 4, le(0xfffffff0, 4));
  std::string garbage = deflated;
  garbage.replace(30 + 5, 4, "\xff\xff\xff\xff");
  std::string error;
  CHECK(!readNpzBytes(bytesOf(bomb), "b.npz", error));
  CHECK_MESSAGE(contains(error, "more than deflate can produce"), error);
  CHECK(!readNpzBytes(bytesOf(garbage), "g.npz", error));
  CHECK_MESSAGE(contains(error, "member 'd': "), error);
}

TEST_CASE("npy: damaged files never crash") {
  NamedArrays arrays = {{"w", patterned(ElemType::F32, {3, 5})},
                        {"k", patterned(ElemType::I64, {2})}};
  TempDir dir;
  std::string error;
  REQUIRE(writeNpz(dir / "f.npz", arrays, error));
  std::ifstream in(dir / "f.npz", std::ios::binary);
  std::string zip((std::istreambuf_iterator<char>(in)), {});
  std::string deflated = zipOf({{"w.npy", textOf(encodeNpy(arrays[0].second)), true, true}});
  for (const std::string &file : {zip, deflated}) {
    for (size_t n = 0; n < file.size(); ++n)
      CHECK(!readNpzBytes(bytesOf(file.substr(0, n)), "t.npz", error));
    for (size_t i = 0; i < file.size(); ++i) {
      std::string bad = file;
      bad[i] ^= 0x5a;
      (void)readNpzBytes(bytesOf(bad), "t.npz", error);
    }
  }
  std::string npy = textOf(encodeNpy(arrays[0].second));
  for (size_t i = 0; i < npy.size(); ++i) {
    std::string bad = npy;
    bad[i] ^= 0x5a;
    (void)readNpyBytes(bytesOf(bad), "t.npy", error);
    CHECK(!readNpyBytes(bytesOf(npy.substr(0, i)), "t.npy", error));
  }
}

TEST_CASE("npy: writes are atomic") {
  TempDir dir;
  std::string error;
  HostArray a = HostArray::fromValues<float>({2}, {1, 2});
  HostArray b = HostArray::fromValues<float>({3}, {4, 5, 6});
  REQUIRE(writeNpy(dir / "x.npy", a, error));
  REQUIRE(writeNpy(dir / "x.npy", b, error));
  CHECK(*readNpy(dir / "x.npy", error) == b);

  // Renaming a file over a non-empty directory fails after the data was
  // written: the directory survives and the temporary file is gone.
  fs::create_directories(dir / "d.npy/keep");
  CHECK(!writeNpy(dir / "d.npy", a, error));
  CHECK_MESSAGE(contains(error, "d.npy: cannot replace file"), error);
  CHECK(fs::is_directory(dir / "d.npy/keep"));
  CHECK(!writeNpz(dir / "d.npy", {{"a", a}}, error));
  CHECK(!writeNpy(dir / "no/such/dir.npy", a, error));
  CHECK_MESSAGE(contains(error, "cannot create"), error);
  CHECK(!dir.hasTempFiles());
}

TEST_CASE("npy: conversion rules") {
  std::string why;
  auto f64 = HostArray::fromValues<double>({3}, {1.5, -0.1, 1e300});
  CHECK(convertTo(f64, ElemType::F32, why).bytes.empty());
  CHECK(why == "value 1e+300 at index 2 overflows f32");
  f64.f64()[2] = std::numeric_limits<double>::infinity();
  HostArray f32 = convertTo(f64, ElemType::F32, why);
  CHECK(why.empty());
  CHECK(f32.shape == std::vector<int64_t>{3});
  CHECK(f32.f32()[1] == -0.1f);
  CHECK(std::isinf(f32.f32()[2]));
  CHECK(convertTo(f32, ElemType::F64, why).f64()[0] == 1.5);

  auto i64 = HostArray::fromValues<int64_t>({2, 2}, {1, -2, 2147483647, -5});
  HostArray i32 = convertTo(i64, ElemType::I32, why);
  CHECK(why.empty());
  CHECK(i32.i32()[2] == 2147483647);
  i64.i64()[3] = 3000000000;
  convertTo(i64, ElemType::I32, why);
  CHECK(why == "value 3000000000 at index 3 does not fit in i32");

  convertTo(f32, ElemType::I32, why);
  CHECK(contains(why, "cannot convert f32 values to i32"));
  convertTo(f64, ElemType::Bool, why);
  CHECK(contains(why, "cannot convert f64 values to bool"));

  auto big = HostArray::fromValues<int32_t>({2}, {16777216, -16777216});
  CHECK(convertTo(big, ElemType::F32, why).f32()[0] == 16777216.0f);
  big.i32()[1] = -16777217;
  convertTo(big, ElemType::F32, why);
  CHECK(why == "value -16777217 at index 1 is not exactly representable in f32");
  CHECK(convertTo(big, ElemType::F64, why).f64()[1] == -16777217.0);
  auto huge = HostArray::fromValues<int64_t>({1}, {(int64_t(1) << 53) + 1});
  convertTo(huge, ElemType::F64, why);
  CHECK(contains(why, "not exactly representable in f64"));

  auto flags = HostArray::fromValues<bool>({3}, {true, false, true});
  CHECK(convertTo(flags, ElemType::F32, why).f32()[2] == 1.0f);
  CHECK(convertTo(flags, ElemType::I32, why).i32()[1] == 0);
  auto bytes = HostArray::fromValues<uint8_t>({2}, {255, 0});
  CHECK(convertTo(bytes, ElemType::I32, why).i32()[0] == 255);
  CHECK(convertTo(bytes, ElemType::F32, why).f32()[0] == 255.0f);
  convertTo(bytes, ElemType::I8, why);
  CHECK(why == "value 255 at index 0 does not fit in i8");
  auto ints = HostArray::fromValues<int32_t>({2}, {1, 0});
  CHECK(convertTo(ints, ElemType::Bool, why).boolean()[0]);
  ints.i32()[1] = 2;
  convertTo(ints, ElemType::Bool, why);
  CHECK(why == "value 2 at index 1 does not fit in bool");
  CHECK(convertTo(ints, ElemType::I32, why) == ints);
  CHECK(why.empty());
}

//===----------------------------------------------------------------------===//
// Files exchanged with real NumPy (see tests/CMakeLists.txt)
//===----------------------------------------------------------------------===//

namespace {

/// An array described as the Python scripts describe one: gradc's dtype
/// name, shape and C-order values (floats as doubles, exactly).
nlohmann::json describe(const HostArray &a) {
  nlohmann::json values = nlohmann::json::array();
  std::string why;
  HostArray wide = convertTo(a, isFloat(a.type) ? ElemType::F64 : ElemType::I64, why);
  for (int64_t i = 0; i < a.numElements(); ++i) {
    if (a.type == ElemType::Bool)
      values.push_back(a.boolean()[i]);
    else if (isFloat(a.type))
      values.push_back(wide.f64()[i]);
    else
      values.push_back(wide.i64()[i]);
  }
  return {{"dtype", elemTypeName(a.type)}, {"shape", a.shape}, {"values", values}};
}

/// Values i / 3 - 1: not NaN, unlike some patterned() bytes, since NaN
/// compares unequal to itself in the Python check.
template <class T> HostArray ramp(std::vector<int64_t> shape) {
  HostArray a = HostArray::zeros(elemTypeOf<T>(), std::move(shape));
  for (int64_t i = 0; i < a.numElements(); ++i)
    a.data<T>()[i] = T(i) / 3 - 1;
  return a;
}

} // namespace

TEST_CASE("npy: files written by NumPy") {
  const char *root = std::getenv("GRADC_NPY_FIXTURES");
  if (!root)
    return; // Run by the npy_numpy_read ctest, which generates the files.
  std::ifstream in(fs::path(root) / "manifest.json");
  REQUIRE(in);
  nlohmann::json manifest = nlohmann::json::parse(in);
  CHECK(manifest.size() >= 20);
  for (auto &[file, want] : manifest.items()) {
    CAPTURE(file);
    std::string path = (fs::path(root) / file).string(), error;
    if (want.contains("error")) {
      CHECK(!readNpy(path, error));
      CHECK_MESSAGE(contains(error, want["error"].get<std::string>()), error);
    } else if (want.contains("members")) {
      std::optional<NamedArrays> arrays = readNpz(path, error);
      REQUIRE_MESSAGE(arrays, error);
      REQUIRE(arrays->size() == want["members"].size());
      for (size_t i = 0; i < arrays->size(); ++i) {
        nlohmann::json got = describe((*arrays)[i].second);
        got["name"] = (*arrays)[i].first;
        CHECK(got == want["members"][i]);
      }
    } else {
      std::optional<HostArray> a = readNpy(path, error);
      REQUIRE_MESSAGE(a, error);
      CHECK(describe(*a) == want);
    }
  }
}

TEST_CASE("npy: files for NumPy") {
  const char *root = std::getenv("GRADC_NPY_WRITE_DIR");
  if (!root)
    return; // Run by the npy_numpy_check ctest, which checks the files.
  fs::create_directories(root);
  NamedArrays files = {
      {"f4.npy", ramp<float>({2, 3})},
      {"f8_scalar.npy", HostArray::fromValues<double>({}, {2.5})},
      {"i4.npy", HostArray::fromValues<int32_t>({4}, {-5, 0, 7, 2147483647})},
      {"i8.npy",
       HostArray::fromValues<int64_t>({2, 1, 2}, {-1, int64_t(1) << 40, -(int64_t(1) << 62), 3})},
      {"b1.npy", HostArray::fromValues<bool>({3}, {true, false, true})},
      {"u1.npy", patterned(ElemType::U8, {2, 2, 2, 2})},
      {"i1.npy", patterned(ElemType::I8, {5})},
      {"i2.npy", patterned(ElemType::I16, {3})},
      {"u2.npy", patterned(ElemType::U16, {3})},
      {"u4.npy", patterned(ElemType::U32, {3})},
      {"empty.npy", HostArray::zeros(ElemType::F32, {0, 4})},
      {"rank4.npy", ramp<double>({2, 1, 3, 2})},
  };
  nlohmann::json manifest;
  std::string error;
  for (const auto &[name, a] : files) {
    REQUIRE_MESSAGE(writeNpy((fs::path(root) / name).string(), a, error), error);
    manifest[name] = describe(a);
  }
  NamedArrays params(files.begin(), files.begin() + 5);
  params[0].first = "a1.W";
  params[1].first = "step";
  params[2].first = "a1.b";
  params[3].first = "x.y/z";
  params[4].first = "mask";
  REQUIRE_MESSAGE(writeNpz((fs::path(root) / "params.npz").string(), params, error), error);
  nlohmann::json members = nlohmann::json::array();
  for (const auto &[name, a] : params) {
    members.push_back(describe(a));
    members.back()["name"] = name;
  }
  manifest["params.npz"] = {{"members", members}};
  std::ofstream(fs::path(root) / "written.json") << manifest.dump(1);
}
