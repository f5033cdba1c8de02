//===- runtime/SafetensorsIO.cpp - .safetensors files ---------------------===//
#include "runtime/SafetensorsIO.h"

#include "runtime/AtomicFile.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace gradc::runtime {

namespace {

constexpr int kMaxRank = 16;

/// The format's dtype names are gradc's element type names in capitals:
/// F32, I64, U8, BOOL.
std::string dtypeName(ElemType t) {
  std::string s = elemTypeName(t);
  for (char &c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

bool dtypeOf(const std::string &name, ElemType &t) {
  for (ElemType c : {ElemType::F32, ElemType::F64, ElemType::I8, ElemType::I16, ElemType::I32,
                     ElemType::I64, ElemType::U8, ElemType::U16, ElemType::U32, ElemType::Bool})
    if (name == dtypeName(c)) {
      t = c;
      return true;
    }
  return false;
}

} // namespace

std::vector<std::byte> encodeSafetensors(const NamedArrays &tensors,
                                         const std::map<std::string, std::string> &metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty())
    header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto &[name, a] : tensors) {
    header[name] = {{"dtype", dtypeName(a.type)},
                    {"shape", a.shape},
                    {"data_offsets", {offset, offset + a.byteSize()}}};
    offset += a.byteSize();
  }
  std::string text = header.dump();
  // Pad with spaces so that the data starts at a multiple of 8 bytes.
  while ((8 + text.size()) % 8 != 0)
    text += ' ';
  std::vector<std::byte> out(8 + text.size() + offset);
  uint64_t n = text.size();
  for (int i = 0; i < 8; ++i)
    out[i] = std::byte((n >> (8 * i)) & 0xff);
  std::memcpy(out.data() + 8, text.data(), text.size());
  std::byte *data = out.data() + 8 + text.size();
  for (const auto &[name, a] : tensors) {
    std::memcpy(data, a.bytes.data(), a.byteSize());
    data += a.byteSize();
  }
  return out;
}

bool writeSafetensors(const std::string &path, const NamedArrays &tensors,
                      const std::map<std::string, std::string> &metadata, std::string &error) {
  AtomicFile f(path);
  std::vector<std::byte> bytes = encodeSafetensors(tensors, metadata);
  return f.open(error) && f.write(bytes, error) && f.commit(error);
}

std::optional<Safetensors> readSafetensorsBytes(std::span<const std::byte> bytes,
                                                std::string_view name, std::string &error) {
  auto fail = [&](const std::string &why) -> std::optional<Safetensors> {
    error = std::string(name) + ": " + why;
    return std::nullopt;
  };
  if (bytes.size() < 8)
    return fail("too short for a .safetensors file (" + std::to_string(bytes.size()) + " bytes)");
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i)
    n |= uint64_t(static_cast<uint8_t>(bytes[i])) << (8 * i);
  if (n > kSafetensorsMaxHeader)
    return fail("a header of " + std::to_string(n) + " bytes (at most " +
                std::to_string(kSafetensorsMaxHeader) + "): not a .safetensors file, or damaged");
  if (n > bytes.size() - 8)
    return fail("truncated header (" + std::to_string(n) + " bytes declared, " +
                std::to_string(bytes.size() - 8) + " in the file)");
  std::string_view text(reinterpret_cast<const char *>(bytes.data() + 8), n);
  nlohmann::json header = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object())
    return fail("the header is not a JSON object");
  std::span<const std::byte> data = bytes.subspan(8 + n);
  Safetensors out;
  struct Range {
    uint64_t begin, end;
    size_t index;
  };
  std::vector<Range> ranges;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string &key = it.key();
    const nlohmann::json &v = it.value();
    if (key == "__metadata__") {
      if (!v.is_object())
        return fail("__metadata__ is not an object of strings");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string())
          return fail("__metadata__ '" + m.key() + "' is not a string");
        out.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    std::string where = "tensor '" + key + "'";
    if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") ||
        !v.contains("data_offsets"))
      return fail(where + ": not an object with dtype, shape and data_offsets");
    const nlohmann::json &dt = v["dtype"], &sh = v["shape"], &off = v["data_offsets"];
    HostArray a;
    if (!dt.is_string() || !dtypeOf(dt.get<std::string>(), a.type))
      return fail(where + ": unsupported dtype " + dt.dump());
    if (!sh.is_array() || sh.size() > kMaxRank)
      return fail(where + ": shape " + sh.dump() + " is not a list of at most " +
                  std::to_string(kMaxRank) + " sizes");
    int64_t count = 1;
    for (const nlohmann::json &d : sh) {
      if (!d.is_number_unsigned() || d.get<uint64_t>() > (uint64_t(1) << 31))
        return fail(where + ": shape " + sh.dump() + " has a size that is not 0..2^31");
      int64_t s = d.get<int64_t>();
      if (s != 0 && count > kNpyMaxElements / s)
        return fail(where + ": more than " + std::to_string(kNpyMaxElements) + " elements");
      count *= s;
      a.shape.push_back(s);
    }
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() ||
        !off[1].is_number_unsigned())
      return fail(where + ": data_offsets " + off.dump() + " is not [BEGIN, END]");
    uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    uint64_t size = static_cast<uint64_t>(count) * elemSize(a.type);
    if (end < begin || end - begin != size)
      return fail(where + ": data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                  "] do not hold " + a.typeStr() + " (" + std::to_string(size) + " bytes)");
    if (end > data.size())
      return fail(where + ": truncated data (its bytes end at " + std::to_string(end) +
                  ", the data has " + std::to_string(data.size()) + ")");
    ranges.push_back({begin, end, out.tensors.size()});
    out.tensors.push_back({key, std::move(a)});
  }
  // The ranges must tile the data: sorted, each starting where the last ended.
  std::sort(ranges.begin(), ranges.end(),
            [](const Range &x, const Range &y) { return x.begin < y.begin; });
  uint64_t at = 0;
  for (const Range &r : ranges) {
    if (r.begin != at)
      return fail("tensor '" + out.tensors[r.index].first + "' " +
                  (r.begin < at ? "overlaps another" : "leaves a gap before it") + " in the data");
    at = r.end;
  }
  if (at != data.size())
    return fail(std::to_string(data.size() - at) + " bytes after the last tensor's data");
  NamedArrays ordered;
  for (const Range &r : ranges) {
    auto &[key, a] = out.tensors[r.index];
    a.bytes.assign(data.begin() + r.begin, data.begin() + r.end);
    if (a.type == ElemType::Bool)
      for (std::byte b : a.bytes)
        if (b != std::byte{0} && b != std::byte{1})
          return fail("tensor '" + key + "': a BOOL byte that is neither 0 nor 1");
    ordered.push_back({key, std::move(a)});
  }
  out.tensors = std::move(ordered);
  return out;
}

std::optional<Safetensors> readSafetensors(const std::string &path, std::string &error) {
  error.clear();
  std::vector<std::byte> bytes;
  if (!readWholeFile(path, kSafetensorsMaxFile, bytes, error))
    return std::nullopt;
  return readSafetensorsBytes(bytes, path, error);
}

bool looksLikeNpz(const std::string &path) {
  InputFile f;
  std::string err;
  std::byte head[2] = {};
  return f.open(path, err) && f.size() >= 2 && f.readAt(0, head, 2, err) &&
         head[0] == std::byte{'P'} && head[1] == std::byte{'K'};
}

std::optional<NamedArrays> readParameterFile(const std::string &path, std::string &error) {
  if (looksLikeNpz(path))
    return readNpz(path, error);
  std::optional<Safetensors> st = readSafetensors(path, error);
  if (!st)
    return std::nullopt;
  std::erase_if(st->tensors,
                [](const auto &t) { return t.first.starts_with(kOptimizerStatePrefix); });
  return std::move(st->tensors);
}

} // namespace gradc::runtime
