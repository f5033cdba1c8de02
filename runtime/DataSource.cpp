//===- runtime/DataSource.cpp - Training data named after a model's inputs -===//
#include "runtime/DataSource.h"

#include "runtime/AtomicFile.h"
#include "runtime/IdxIO.h"
#include "runtime/NpyIO.h"

#include <cctype>
#include <cstring>
#include <filesystem>

namespace gradc::runtime {

namespace {

constexpr int64_t kMaxTextBytes = int64_t(1) << 31;

bool isName(const std::string &s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_'))
    return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'))
      return false;
  return true;
}

/// An .npy or IDX file, told apart by their first bytes.
bool readArrayFile(const std::string &path, DataColumn &col, std::string &error) {
  InputFile f;
  if (!f.open(path, error))
    return false;
  std::byte head[6] = {};
  if (f.size() >= 6 && !f.readAt(0, head, 6, error))
    return false;
  static const char npyMagic[] = "\x93NUMPY";
  bool npy = f.size() >= 6 && std::memcmp(head, npyMagic, 6) == 0;
  bool gzip = f.size() >= 2 && head[0] == std::byte{0x1f} && head[1] == std::byte{0x8b};
  bool idx = f.size() >= 2 && head[0] == std::byte{0} && head[1] == std::byte{0};
  std::optional<HostArray> a;
  if (npy) {
    a = readNpy(path, error);
  } else if (gzip || idx) {
    a = readIdx(path, error);
    col.fromIdx = a && a->type == ElemType::U8;
  } else {
    error = path + ": neither an .npy file nor an IDX file (gzip'd or not)";
    return false;
  }
  if (!a)
    return false;
  if (a->rank() == 0) {
    error = path + ": a scalar, not examples along a first axis";
    return false;
  }
  col.array = std::move(*a);
  return true;
}

bool readText(const std::string &path, DataColumn &col, std::string &error) {
  InputFile f;
  if (!f.open(path, error))
    return false;
  if (f.size() > static_cast<uint64_t>(kMaxTextBytes)) {
    error = path + ": a text of more than " + std::to_string(kMaxTextBytes) + " bytes";
    return false;
  }
  col.array = HostArray::zeros(ElemType::U8, {static_cast<int64_t>(f.size())});
  return f.readAt(0, col.array.bytes.data(), col.array.bytes.size(), error);
}

} // namespace

const DataColumn *DataSource::find(const std::string &name) const {
  for (const DataColumn &c : columns)
    if (c.name == name)
      return &c;
  return nullptr;
}

std::optional<DataSource> loadDataSource(const std::string &spec, std::string &error) {
  error.clear();
  DataSource ds;
  ds.spec = spec;
  std::error_code ec;
  if (spec.find('=') == std::string::npos || std::filesystem::is_regular_file(spec, ec)) {
    // An .npz archive of arrays named after the inputs.
    std::optional<NamedArrays> arrays = readNpz(spec, error);
    if (!arrays)
      return std::nullopt;
    for (auto &[name, array] : *arrays) {
      if (array.rank() == 0) {
        error = spec + ": '" + name + "' is a scalar, not examples along a first axis";
        return std::nullopt;
      }
      ds.columns.push_back({name, spec, std::move(array)});
    }
    return ds;
  }
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    std::string item =
        spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? spec.size() + 1 : comma + 1;
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size() ||
        !isName(item.substr(0, eq))) {
      error = "data '" + spec + "': '" + item +
              "' is not NAME=FILE (an input's name, '=', and an .npy, IDX or text:FILE)";
      return std::nullopt;
    }
    DataColumn col;
    col.name = item.substr(0, eq);
    std::string file = item.substr(eq + 1);
    if (ds.find(col.name)) {
      error = "data '" + spec + "': '" + col.name + "' is given twice";
      return std::nullopt;
    }
    if (file.size() > 4 && file.rfind("text", 0) == 0 && (file[4] == ':' || file[4] == '+') &&
        file.find(':') != std::string::npos) {
      size_t colon = file.find(':');
      std::string offset = file.substr(4, colon - 4); // "" or "+K"
      if (!offset.empty()) {
        std::string digits = offset.substr(1);
        bool ok = !digits.empty() && digits.size() <= 9;
        for (char c : digits)
          ok = ok && std::isdigit(static_cast<unsigned char>(c));
        if (!ok) {
          error = "data '" + spec + "': '" + file.substr(0, colon) +
                  "' is not text or text+K with K a whole number of bytes";
          return std::nullopt;
        }
        col.textOffset = std::stoll(digits);
      }
      col.text = true;
      col.file = file.substr(colon + 1);
      if (col.file.empty() || !readText(col.file, col, error)) {
        if (error.empty())
          error = "data '" + spec + "': 'text:' names no file";
        return std::nullopt;
      }
    } else {
      col.file = file;
      if (!readArrayFile(file, col, error))
        return std::nullopt;
    }
    ds.columns.push_back(std::move(col));
  }
  return ds;
}

} // namespace gradc::runtime
