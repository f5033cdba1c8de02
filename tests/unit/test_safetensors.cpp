//===- tests/unit/test_safetensors.cpp - .safetensors files ----------------===//
//
// runtime::{write,read}Safetensors: a round trip of every element type with
// metadata, the byte layout the format specifies, atomic writes, and
// damaged files (each an error naming the file, never a crash).
//
//===----------------------------------------------------------------------===//
#include "TestFiles.h"
#include "runtime/SafetensorsIO.h"

#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace gradc::runtime;
namespace fs = std::filesystem;
using gradc::testutil::contains;
using gradc::testutil::TempDir;

namespace {

/// A file of header `json` (padded to 8 bytes) and `data`.
std::vector<std::byte> fileOf(std::string json, const std::string &data) {
  while ((8 + json.size()) % 8)
    json += ' ';
  std::string s;
  for (int i = 0; i < 8; ++i)
    s += char((json.size() >> (8 * i)) & 0xff);
  s += json + data;
  std::vector<std::byte> out(s.size());
  std::memcpy(out.data(), s.data(), s.size());
  return out;
}

} // namespace

TEST_CASE("safetensors round trip of every element type, with metadata") {
  TempDir t("st");
  NamedArrays tensors{
      {"layer.W", HostArray::fromValues<float>({2, 3}, {1, 2, 3, 4, 5, -6.5f})},
      {"d", HostArray::fromValues<double>({1}, {0.125})},
      {"i", HostArray::fromValues<int32_t>({2}, {-7, 9})},
      {"l", HostArray::fromValues<int64_t>({}, {1ll << 40})},
      {"b", HostArray::fromValues<uint8_t>({3}, {0, 128, 255})},
      {"t", HostArray::fromValues<bool>({2}, {true, false})},
      {"empty", HostArray::zeros(ElemType::F32, {0, 4})},
  };
  std::map<std::string, std::string> meta{{"step", "42"}, {"format", "gradc checkpoint 1"}};
  std::string error;
  REQUIRE(writeSafetensors(t.path("c.safetensors"), tensors, meta, error));
  auto back = readSafetensors(t.path("c.safetensors"), error);
  REQUIRE_MESSAGE(back, error);
  CHECK(back->metadata == meta);
  REQUIRE(back->tensors.size() == tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    INFO(tensors[i].first);
    CHECK(back->tensors[i].first == tensors[i].first); // in the order of their data
    CHECK(back->tensors[i].second == tensors[i].second);
  }
  // The layout the format specifies: u64 header length, JSON, data at a
  // multiple of 8 bytes, the first tensor's floats first.
  std::vector<std::byte> bytes = encodeSafetensors(tensors, meta);
  uint64_t n = 0;
  std::memcpy(&n, bytes.data(), 8);
  CHECK((8 + n) % 8 == 0);
  std::string header(reinterpret_cast<const char *>(bytes.data() + 8), n);
  CHECK(contains(header, R"("layer.W":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]})"));
  CHECK(contains(header, R"("__metadata__":{"format":"gradc checkpoint 1","step":"42"})"));
  float first;
  std::memcpy(&first, bytes.data() + 8 + n, 4);
  CHECK(first == 1.0f);
}

TEST_CASE("a failed safetensors write leaves the old file") {
  TempDir t("st");
  std::string error;
  NamedArrays one{{"x", HostArray::fromValues<float>({1}, {1})}};
  REQUIRE(writeSafetensors(t.path("c.safetensors"), one, {}, error));
  CHECK_FALSE(writeSafetensors(t.path("missing/c.safetensors"), one, {}, error));
  CHECK(contains(error, "missing"));
  auto back = readSafetensors(t.path("c.safetensors"), error);
  REQUIRE(back);
  CHECK(back->tensors[0].second.f32()[0] == 1.0f);
  size_t files = 0;
  for (auto &e : fs::directory_iterator(t.dir))
    files += e.is_regular_file();
  CHECK(files == 1); // no temporary file left behind
}

TEST_CASE("damaged safetensors files are errors naming the file") {
  std::string f4(4, '\0'), f8(8, '\0');
  struct Case {
    const char *name;
    std::vector<std::byte> bytes;
    std::string message;
  } cases[] = {
      {"short", std::vector<std::byte>(5), "too short for a .safetensors file"},
      {"huge", std::vector<std::byte>(16, std::byte{0xff}), "not a .safetensors file, or damaged"},
      {"cut",
       [] {
         auto b = fileOf(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", "abcd");
         b.resize(20);
         return b;
       }(),
       "truncated header"},
      {"json", fileOf("{not json", ""), "not a JSON object"},
      {"dtype", fileOf(R"({"x":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}})", "ab"),
       "tensor 'x': unsupported dtype \"F16\""},
      {"shape", fileOf(R"({"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", f4),
       "has a size that is not 0..2^31"},
      {"fields", fileOf(R"({"x":{"dtype":"F32","shape":[1]}})", f4),
       "not an object with dtype, shape and data_offsets"},
      {"size", fileOf(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", f4),
       "do not hold f32[2] (8 bytes)"},
      {"data", fileOf(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", f4),
       "truncated data"},
      {"gap", fileOf(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", f8),
       "leaves a gap before it"},
      {"overlap",
       fileOf(
           R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"y":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
           f4),
       "overlaps another"},
      {"tail", fileOf(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", f8),
       "4 bytes after the last tensor's data"},
      {"bool", fileOf(R"({"x":{"dtype":"BOOL","shape":[1],"data_offsets":[0,1]}})", "\x02"),
       "neither 0 nor 1"},
      {"meta", fileOf(R"({"__metadata__":{"step":3}})", ""), "__metadata__ 'step' is not a string"},
  };
  for (const Case &c : cases) {
    INFO(c.name);
    std::string error;
    CHECK_FALSE(readSafetensorsBytes(c.bytes, "ckpt.safetensors", error));
    CHECK(contains(error, "ckpt.safetensors: "));
    CHECK_MESSAGE(contains(error, c.message), error);
  }
}
