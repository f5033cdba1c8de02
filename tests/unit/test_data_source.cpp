//===- tests/unit/test_data_source.cpp - SOURCE specs of gradc train -------===//
//
// runtime::loadDataSource on .npz archives and NAME=FILE lists of .npy, IDX
// (gzip'd or not, told apart by content) and text files, and its errors:
// each names the spec, the item or the file at fault.
//
//===----------------------------------------------------------------------===//
#include "TestFiles.h"
#include "runtime/DataSource.h"
#include "runtime/Examples.h"
#include "runtime/NpyIO.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace gradc::runtime;
namespace fs = std::filesystem;
using gradc::testutil::contains;
using gradc::testutil::TempDir;

namespace {

/// An IDX file of u8 labels.
std::string idxLabels(std::initializer_list<uint8_t> labels) {
  std::string s{'\0', '\0', '\x08', '\x01', '\0', '\0', '\0', char(labels.size())};
  for (uint8_t l : labels)
    s += char(l);
  return s;
}

} // namespace

TEST_CASE("a SOURCE list of .npy, IDX and text files") {
  TempDir t("data");
  std::string error;
  HostArray x = HostArray::fromValues<float>({3, 2}, {1, 2, 3, 4, 5, 6});
  REQUIRE(writeNpy(t.path("x.npy"), x, error));
  t.write("y.idx", idxLabels({7, 8, 9}));
  t.write("corpus.txt", "hello, world");
  std::string spec = "x=" + t.path("x.npy") + ",y=" + t.path("y.idx") +
                     ",tok=text:" + t.path("corpus.txt") + ",next=text+1:" + t.path("corpus.txt");
  auto ds = loadDataSource(spec, error);
  REQUIRE_MESSAGE(ds, error);
  REQUIRE(ds->columns.size() == 4);
  CHECK(ds->find("x")->array == x);
  CHECK_FALSE(ds->find("x")->fromIdx);
  const DataColumn *y = ds->find("y");
  CHECK(y->fromIdx);
  CHECK(y->array.shape == std::vector<int64_t>{3});
  CHECK(y->array.u8()[2] == 9);
  CHECK(ds->find("tok")->text);
  CHECK(ds->find("tok")->array.shape == std::vector<int64_t>{12});
  CHECK(ds->find("next")->textOffset == 1);
  CHECK(ds->find("missing") == nullptr);
}

TEST_CASE("a SOURCE .npz names its arrays after the inputs") {
  TempDir t("data");
  std::string error;
  HostArray x = HostArray::fromValues<float>({2, 2}, {1, 2, 3, 4});
  REQUIRE(writeNpy(t.path("x.npy"), x, error));
  // An .npz written by NumPy's savez is a ZIP of .npy members; build one
  // the way the session does, through the .npz writer.
  REQUIRE(writeNpz(t.path("d.npz"), {{"x", x}}, error));
  auto ds = loadDataSource(t.path("d.npz"), error);
  REQUIRE_MESSAGE(ds, error);
  REQUIRE(ds->columns.size() == 1);
  CHECK(ds->columns[0].name == "x");
  CHECK(ds->columns[0].array == x);
}

TEST_CASE("bad SOURCE specs and files are errors that name them") {
  TempDir t("data");
  std::string error;
  t.write("junk.bin", "PK\x03\x04 not an array");
  t.write("y.idx", idxLabels({1}));
  REQUIRE(writeNpy(t.path("s.npy"), HostArray::fromValues<float>({}, {1}), error));
  struct Case {
    std::string spec, message;
  } cases[] = {
      {"x=", "'x=' is not NAME=FILE"},
      {"=a.npy", "'=a.npy' is not NAME=FILE"},
      {"1x=a.npy", "is not NAME=FILE"},
      {"y=" + t.path("y.idx") + ",y=" + t.path("y.idx"), "'y' is given twice"},
      {"tok=text+x:" + t.path("y.idx"), "'text+x' is not text or text+K"},
      {"tok=text:", "'text:' names no file"},
      {"x=" + t.path("junk.bin"), "junk.bin: neither an .npy file nor an IDX file"},
      {"x=" + t.path("s.npy"), "s.npy: a scalar"},
      {"x=" + t.path("absent.npy"), "absent.npy"},
      {t.path("absent.npz"), "absent.npz"},
  };
  for (const Case &c : cases) {
    INFO(c.spec);
    CHECK_FALSE(loadDataSource(c.spec, error));
    CHECK_MESSAGE(contains(error, c.message), error);
  }
}

TEST_CASE("a SOURCE fitted to a model's inputs") {
  TempDir t("data");
  std::string error;
  // IDX images u8 [3, 2, 2] feed x[B, 4] scaled to [0, 1]; IDX labels feed
  // y[B]; an .npy of doubles feeds w[B, 2].
  std::string images{'\0', '\0', '\x08', '\x03', '\0', '\0', '\0', '\x03',
                     '\0', '\0', '\0',   '\x02', '\0', '\0', '\0', '\x02'};
  for (int i = 0; i < 12; ++i)
    images += char(i * 20);
  t.write("img.idx", images);
  t.write("lab.idx", idxLabels({4, 5, 6}));
  REQUIRE(
      writeNpy(t.path("w.npy"), HostArray::fromValues<double>({3, 2}, {1, 2, 3, 4, 5, 6}), error));
  auto ds = loadDataSource(
      "x=" + t.path("img.idx") + ",y=" + t.path("lab.idx") + ",w=" + t.path("w.npy"), error);
  REQUIRE_MESSAGE(ds, error);
  std::vector<InputSlot> slots{
      {"x", ElemType::F32, {4}}, {"y", ElemType::I32, {}}, {"w", ElemType::F32, {2}}};
  auto ex = fitExamples(*ds, slots, error);
  REQUIRE_MESSAGE(ex, error);
  CHECK(ex->count == 3);
  CHECK(ex->arrays[0].shape == std::vector<int64_t>{3, 4});
  CHECK(ex->arrays[0].f32()[5] == doctest::Approx(100.0 / 255.0));
  CHECK(ex->arrays[1].i32()[2] == 6);
  CHECK(ex->arrays[2].f32()[3] == 4.0f);
  // A batch gathers rows in the given order.
  std::vector<HostArray> batch = ex->gather({2, 0, 1}, 1, 2);
  CHECK(batch[1].shape == std::vector<int64_t>{2});
  CHECK(batch[1].i32()[0] == 4);
  CHECK(batch[1].i32()[1] == 5);
  CHECK(batch[0].f32()[0] == 0.0f);

  // A text's windows: tok and next are the same windows a byte apart.
  t.write("c.txt", "abcdefghij");
  auto text =
      loadDataSource("tok=text:" + t.path("c.txt") + ",next=text+1:" + t.path("c.txt"), error);
  REQUIRE_MESSAGE(text, error);
  auto lm = fitExamples(*text, {{"tok", ElemType::I32, {3}}, {"next", ElemType::I32, {3}}}, error);
  REQUIRE_MESSAGE(lm, error);
  CHECK(lm->count == 3); // next has floor(9 / 3) windows
  CHECK(lm->arrays[0].i32()[3] == 'd');
  CHECK(lm->arrays[1].i32()[3] == 'e');
  CHECK(lm->arrays[1].shape == std::vector<int64_t>{3, 3});

  struct Case {
    std::vector<InputSlot> slots;
    std::string message;
  } cases[] = {
      {{{"x", ElemType::F32, {5}}, {"y", ElemType::I32, {}}, {"w", ElemType::F32, {2}}},
       "examples of shape [2,2] (4 elements), but the input's examples are [5] (5)"},
      {{{"x", ElemType::F32, {4}}, {"y", ElemType::I32, {}}, {"w", ElemType::I32, {2}}},
       "f64 values for an int input"},
      {{{"x", ElemType::F32, {4}}, {"y", ElemType::I32, {}}},
       "'w' (" + t.path("w.npy") + ") is not an input of the model (its inputs: x, y)"},
      {{{"x", ElemType::F32, {4}},
        {"y", ElemType::I32, {}},
        {"w", ElemType::F32, {2}},
        {"z", ElemType::F32, {1}}},
       "nothing for input 'z'"},
  };
  for (const Case &c : cases) {
    CHECK_FALSE(fitExamples(*ds, c.slots, error));
    CHECK_MESSAGE(contains(error, c.message), error);
  }
  CHECK_FALSE(
      fitExamples(*text, {{"tok", ElemType::F32, {3}}, {"next", ElemType::I32, {3}}}, error));
  CHECK(contains(error, "a text is byte tokens, which feed an int input"));
  REQUIRE(writeNpy(t.path("w4.npy"), HostArray::fromValues<float>({4, 2}, {1, 2, 3, 4, 5, 6, 7, 8}),
                   error));
  auto uneven = loadDataSource("y=" + t.path("lab.idx") + ",w=" + t.path("w4.npy"), error);
  REQUIRE(uneven);
  CHECK_FALSE(fitExamples(*uneven, {{"y", ElemType::I32, {}}, {"w", ElemType::F32, {2}}}, error));
  CHECK(contains(error, "input 'w' has 4 examples, input 'y' 3"));
}

TEST_CASE("epoch orders are seeded permutations") {
  std::vector<int64_t> a = epochOrder(1000, 7, 0), b = epochOrder(1000, 7, 0),
                       c = epochOrder(1000, 7, 1), d = epochOrder(1000, 8, 0);
  CHECK(a == b);
  CHECK(a != c);
  CHECK(a != d);
  std::vector<int64_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 1000; ++i)
    CHECK(sorted[i] == i);
  CHECK(epochOrder(0, 1, 0).empty());
  CHECK(epochOrder(1, 1, 0) == std::vector<int64_t>{0});
}
