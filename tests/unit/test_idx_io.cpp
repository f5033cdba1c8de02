//===- tests/unit/test_idx_io.cpp - IDX files of the MNIST family ----------===//
//
// runtime::readIdx on files written here (plain and gzip'd, each element
// type, big-endian elements), on damaged files (each a sentence naming the
// file, never a crash), and on Debian's Fashion-MNIST when it is installed.
//
//===----------------------------------------------------------------------===//
#include "TestFiles.h"
#include "runtime/IdxIO.h"

#include <doctest/doctest.h>
#include <zlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace gradc::runtime;
namespace fs = std::filesystem;
using gradc::testutil::contains;
using gradc::testutil::TempDir;

namespace {

std::string be32(uint32_t v) {
  std::string s;
  for (int i = 3; i >= 0; --i)
    s += char((v >> (8 * i)) & 0xff);
  return s;
}

std::string header(uint8_t code, std::initializer_list<uint32_t> dims) {
  std::string s{'\0', '\0', char(code), char(dims.size())};
  for (uint32_t d : dims)
    s += be32(d);
  return s;
}

std::string gzipOf(const std::string &data) {
  z_stream zs{};
  REQUIRE(deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&zs, data.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef *>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  REQUIRE(deflate(&zs, Z_FINISH) == Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

} // namespace

TEST_CASE("IDX files of each element type, plain and gzip'd") {
  TempDir t("idx");
  std::string u8 = header(0x08, {2, 3}) + std::string("\x00\x01\x02\xfd\xfe\xff", 6);
  std::string f32 = header(0x0D, {2});
  float values[2] = {1.5f, -0.25f};
  for (float v : values) {
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    f32 += be32(bits);
  }
  std::string i16 = header(0x0B, {1}) + std::string("\xff\xfe", 2); // -2
  for (bool zipped : {false, true}) {
    INFO("gzip'd: " << zipped);
    auto file = [&](const std::string &name, const std::string &content) {
      return t.write(name, zipped ? gzipOf(content) : content);
    };
    std::string error;
    auto a = readIdx(file("u8.idx", u8), error);
    REQUIRE_MESSAGE(a, error);
    CHECK(a->type == ElemType::U8);
    CHECK(a->shape == std::vector<int64_t>{2, 3});
    CHECK(a->u8()[3] == 253);
    auto b = readIdx(file("f32.idx", f32), error);
    REQUIRE_MESSAGE(b, error);
    CHECK(b->type == ElemType::F32);
    CHECK(b->f32()[0] == 1.5f);
    CHECK(b->f32()[1] == -0.25f);
    auto c = readIdx(file("i16.idx", i16), error);
    REQUIRE_MESSAGE(c, error);
    CHECK(c->data<int16_t>()[0] == -2);
  }
}

TEST_CASE("damaged IDX files are errors naming the file") {
  TempDir t("idx");
  std::string good = header(0x08, {2, 2}) + std::string(4, '\x07');
  struct Case {
    const char *name;
    std::string content, message;
  } cases[] = {
      {"short", std::string("\0\0", 2), "too short for an IDX header"},
      {"magic", "PK" + good.substr(2), "not an IDX file"},
      {"type", header(0x0A, {2}) + "ab", "unknown IDX element type 0x0A"},
      {"rank", std::string("\0\0\x08\x20", 4), "32 dimensions"},
      {"header", header(0x08, {2, 2}).substr(0, 9), "truncated header"},
      {"data", good.substr(0, good.size() - 1), "truncated data (u8[2,2] needs 4 bytes, found 3)"},
      {"trailing", good + "x", "trailing bytes after the data"},
      {"huge", header(0x0D, {65536, 65536, 2}), "more than 2147483648 elements"},
      {"gzcut", gzipOf(good).substr(0, 12), "truncated gzip data"},
      {"gzbad", gzipOf(good).substr(0, 10) + std::string(20, '\xff'), "corrupt gzip data"},
  };
  for (const Case &c : cases) {
    INFO(c.name);
    std::string path = t.write(c.name, c.content), error;
    CHECK_FALSE(readIdx(path, error));
    CHECK(contains(error, path + ": "));
    CHECK_MESSAGE(contains(error, c.message), error);
  }
  std::string error;
  CHECK_FALSE(readIdx((t.dir / "missing.idx").string(), error));
  CHECK(contains(error, "missing.idx"));
}

TEST_CASE("Fashion-MNIST as Debian installs it") {
  const std::string dir = "/usr/share/datasets/fashion-mnist/";
  if (!fs::exists(dir + "t10k-labels-idx1-ubyte.gz")) {
    MESSAGE("dataset-fashion-mnist is not installed; skipped");
    return;
  }
  std::string error;
  auto labels = readIdx(dir + "t10k-labels-idx1-ubyte.gz", error);
  REQUIRE_MESSAGE(labels, error);
  CHECK(labels->shape == std::vector<int64_t>{10000});
  int counts[10] = {};
  for (int64_t i = 0; i < 10000; ++i) {
    REQUIRE(labels->u8()[i] < 10);
    ++counts[labels->u8()[i]];
  }
  for (int k = 0; k < 10; ++k)
    CHECK(counts[k] == 1000); // the test set is balanced
  auto images = readIdx(dir + "t10k-images-idx3-ubyte.gz", error);
  REQUIRE_MESSAGE(images, error);
  CHECK(images->shape == std::vector<int64_t>{10000, 28, 28});
}
