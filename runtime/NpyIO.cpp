//===- runtime/NpyIO.cpp - NumPy .npy and .npz files ----------------------===//
//
// The .npy format: the magic "\x93NUMPY", a major and minor version byte, a
// header length (2 bytes in version 1, 4 bytes in versions 2 and 3), then a
// Python dict literal such as {'descr': '<f4', 'fortran_order': False,
// 'shape': (2, 3), } padded with spaces and a newline, then the raw elements.
// An .npz is a ZIP archive of such files. Both readers trust no number in the
// file until it is checked against the bytes that are actually there.
//
//===----------------------------------------------------------------------===//

#include "runtime/NpyIO.h"
#include "runtime/AtomicFile.h"

#include <algorithm>
#include <bit>
#include <cstring>

static_assert(std::endian::native == std::endian::little, "NpyIO assumes a little-endian host");

namespace gradc::runtime {

namespace {

constexpr std::string_view kMagic = "\x93NUMPY";

uint16_t le16(const std::byte *p) { return uint16_t(p[0]) | uint16_t(uint16_t(p[1]) << 8); }
uint32_t le32(const std::byte *p) { return uint32_t(le16(p)) | (uint32_t(le16(p + 2)) << 16); }

/// What an .npy header says about the data that follows it.
struct NpyLayout {
  ElemType type = ElemType::F32;
  bool bigEndian = false;
  std::vector<int64_t> shape;
  uint64_t dataOffset = 0; ///< Where the elements start in the file.
  uint64_t dataBytes = 0;  ///< How many bytes of elements the shape implies.
};

/// Parses the header dict, a small subset of Python literal syntax: a dict
/// of quoted keys whose values are strings, True/False or tuples of
/// non-negative integers.
class HeaderParser {
public:
  HeaderParser(std::string_view text, std::string &error) : text(text), error(error) {}

  bool parse(std::string &descr, bool &fortranOrder, std::vector<int64_t> &shape) {
    bool seenDescr = false, seenOrder = false, seenShape = false;
    if (!expect('{'))
      return false;
    while (!peek('}')) {
      std::string key;
      if (!parseString(key) || !expect(':'))
        return false;
      if (key == "descr" && !seenDescr) {
        seenDescr = true;
        if (peek('['))
          return fail("structured dtypes are not supported");
        if (!parseString(descr))
          return false;
      } else if (key == "fortran_order" && !seenOrder) {
        seenOrder = true;
        if (!parseBool(fortranOrder))
          return false;
      } else if (key == "shape" && !seenShape) {
        seenShape = true;
        if (!parseShape(shape))
          return false;
      } else {
        return fail("unexpected key '" + key + "'");
      }
      if (!peek('}') && !expect(','))
        return false;
    }
    ++pos;
    skipSpace();
    if (pos != text.size())
      return fail("unexpected text after the closing '}'");
    if (!seenDescr || !seenOrder || !seenShape)
      return fail("missing key '" +
                  std::string(!seenDescr   ? "descr"
                              : !seenOrder ? "fortran_order"
                                           : "shape") +
                  "'");
    return true;
  }

private:
  bool fail(const std::string &msg) {
    error = "malformed .npy header: " + msg;
    return false;
  }
  void skipSpace() {
    while (pos < text.size() &&
           (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\r' || text[pos] == '\n'))
      ++pos;
  }
  /// Skips blanks, then reports whether the next character is `c`.
  bool peek(char c) {
    skipSpace();
    return pos < text.size() && text[pos] == c;
  }
  bool expect(char c) {
    if (!peek(c))
      return fail(std::string("expected '") + c + "' at offset " + std::to_string(pos));
    ++pos;
    return true;
  }
  bool parseString(std::string &out) {
    skipSpace();
    char quote = pos < text.size() ? text[pos] : '\0';
    if (quote != '\'' && quote != '"')
      return fail("expected a quoted string at offset " + std::to_string(pos));
    size_t end = text.find(quote, pos + 1);
    if (end == std::string_view::npos)
      return fail("unterminated string");
    out = std::string(text.substr(pos + 1, end - pos - 1));
    if (out.find('\\') != std::string::npos)
      return fail("escapes in strings are not supported");
    pos = end + 1;
    return true;
  }
  bool parseBool(bool &out) {
    skipSpace();
    for (auto [word, value] : {std::pair{"True", true}, {"False", false}}) {
      if (text.substr(pos, std::strlen(word)) == word) {
        pos += std::strlen(word);
        out = value;
        return true;
      }
    }
    return fail("fortran_order must be True or False");
  }
  bool parseShape(std::vector<int64_t> &shape) {
    if (!expect('('))
      return false;
    while (!peek(')')) {
      if (shape.size() == size_t(kNpyMaxRank))
        return fail("rank exceeds the limit of " + std::to_string(kNpyMaxRank));
      if (peek('-'))
        return fail("negative dimension in shape");
      size_t start = pos;
      int64_t dim = 0;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        if (dim > (kNpyMaxElements - 1) / 10)
          return fail("dimension " + std::string(text.substr(start, pos - start + 1)) +
                      "... exceeds 2^31-1");
        dim = dim * 10 + (text[pos++] - '0');
      }
      if (pos == start)
        return fail("expected a dimension at offset " + std::to_string(pos));
      if (dim > kNpyMaxElements - 1)
        return fail("dimension " + std::to_string(dim) + " exceeds 2^31-1");
      if (pos < text.size() && text[pos] == 'L') // Python 2's long suffix.
        ++pos;
      shape.push_back(dim);
      if (!peek(')') && !expect(','))
        return false;
    }
    ++pos;
    return true;
  }

  std::string_view text;
  size_t pos = 0;
  std::string &error;
};

/// Maps a dtype string such as '<f4' to an element type and byte order.
bool parseDescr(const std::string &descr, ElemType &type, bool &bigEndian, std::string &error) {
  static const std::pair<const char *, ElemType> kinds[] = {
      {"f4", ElemType::F32}, {"f8", ElemType::F64}, {"i1", ElemType::I8}, {"i2", ElemType::I16},
      {"i4", ElemType::I32}, {"i8", ElemType::I64}, {"u1", ElemType::U8}, {"u2", ElemType::U16},
      {"u4", ElemType::U32}, {"b1", ElemType::Bool}};
  char order = descr.empty() ? '\0' : descr[0];
  std::string kind = descr.empty() ? "" : descr.substr(1);
  if (order != '\0' && std::strchr("<>|=", order)) {
    for (auto [name, t] : kinds) {
      if (kind == name) {
        type = t;
        bigEndian = order == '>' && elemSize(t) > 1;
        return true;
      }
    }
  }
  // Name the common unsupported kinds so the user knows what to convert.
  std::string why;
  char k = kind.empty() ? '\0' : kind[0];
  if (kind == "f2")
    why = " (float16; save as float32)";
  else if (kind == "u8")
    why = " (uint64; save as int64 or int32)";
  else if (k == 'O')
    why = " (pickled Python objects)";
  else if (k == 'c')
    why = " (complex numbers)";
  else if (k == 'U' || k == 'S')
    why = " (strings)";
  error = "unsupported dtype '" + descr + "'" + why;
  return false;
}

/// Reads the fixed prefix and header dict from `head` (the start of a file
/// of `fileSize` bytes) and checks that the file holds exactly the elements
/// the header promises.
std::optional<NpyLayout> parseNpyHeader(std::span<const std::byte> head, uint64_t fileSize,
                                        std::string &error) {
  auto chars = [&](size_t off, size_t len) {
    return std::string_view(reinterpret_cast<const char *>(head.data()) + off, len);
  };
  size_t magicLen = std::min(head.size(), kMagic.size());
  if (head.empty() || chars(0, magicLen) != kMagic.substr(0, magicLen)) {
    error = "not an .npy file (no \\x93NUMPY magic at the start)";
    return std::nullopt;
  }
  NpyLayout layout;
  if (head.size() < 10) {
    error = "truncated header (file has only " + std::to_string(fileSize) + " bytes)";
    return std::nullopt;
  }
  unsigned major = unsigned(head[6]), minor = unsigned(head[7]);
  if (major < 1 || major > 3 || minor != 0) {
    error =
        "unsupported .npy format version " + std::to_string(major) + "." + std::to_string(minor);
    return std::nullopt;
  }
  size_t prefix = major == 1 ? 10 : 12;
  if (head.size() < prefix) {
    error = "truncated header (file has only " + std::to_string(fileSize) + " bytes)";
    return std::nullopt;
  }
  uint64_t headerLen = major == 1 ? le16(&head[8]) : le32(&head[8]);
  if (headerLen > kNpyMaxHeaderLen) {
    error = "header length " + std::to_string(headerLen) + " exceeds the limit of " +
            std::to_string(kNpyMaxHeaderLen);
    return std::nullopt;
  }
  if (prefix + headerLen > head.size()) {
    error = "truncated header (expected " + std::to_string(headerLen) + " header bytes, found " +
            std::to_string(head.size() - prefix) + ")";
    return std::nullopt;
  }

  std::string descr;
  bool fortranOrder = false;
  if (!HeaderParser(chars(prefix, headerLen), error).parse(descr, fortranOrder, layout.shape) ||
      !parseDescr(descr, layout.type, layout.bigEndian, error))
    return std::nullopt;
  if (fortranOrder) {
    error = "array is in Fortran order (fortran_order: True); only C order is "
            "supported (save np.ascontiguousarray(a))";
    return std::nullopt;
  }
  // Every dim is below 2^31, so no partial product overflows before the
  // check catches it; a zero dim anywhere makes the array empty.
  bool empty = std::find(layout.shape.begin(), layout.shape.end(), 0) != layout.shape.end();
  int64_t count = empty ? 0 : 1;
  for (int64_t d : layout.shape) {
    count *= d;
    if (count > kNpyMaxElements) {
      error = "array has more than 2^31 elements";
      return std::nullopt;
    }
  }
  layout.dataOffset = prefix + headerLen;
  layout.dataBytes = uint64_t(count) * elemSize(layout.type);
  uint64_t found = fileSize - layout.dataOffset;
  if (found != layout.dataBytes) {
    error = std::string(found < layout.dataBytes ? "truncated" : "trailing") + " data (expected " +
            std::to_string(layout.dataBytes) + " bytes, found " + std::to_string(found) + ")";
    return std::nullopt;
  }
  return layout;
}

/// Brings raw elements into host order and rejects bools other than 0 and
/// 1, whose reads as C++ bool would be undefined.
bool finishArray(const NpyLayout &layout, HostArray &a, std::string &error) {
  size_t size = elemSize(a.type);
  if (layout.bigEndian)
    for (size_t i = 0; i < a.bytes.size(); i += size)
      std::reverse(&a.bytes[i], &a.bytes[i] + size);
  if (a.type == ElemType::Bool) {
    for (size_t i = 0; i < a.bytes.size(); ++i) {
      if (unsigned(a.bytes[i]) > 1) {
        error = "bool element " + std::to_string(i) + " has byte value " +
                std::to_string(unsigned(a.bytes[i])) + " (expected 0 or 1)";
        return false;
      }
    }
  }
  return true;
}

} // namespace

// Version 1.0 suffices: the header of a rank-16 array is far below its
// 64 KiB limit. The padding makes the data start at a multiple of 64 bytes,
// as NumPy's does.
std::string npyHeader(const HostArray &a) {
  GRADC_ASSERT(a.bytes.size() == size_t(a.numElements()) * elemSize(a.type),
               "HostArray bytes do not match its shape");
  static const char *descrs[] = {"<f4", "<f8", "|i1", "<i2", "<i4",
                                 "<i8", "|u1", "<u2", "<u4", "|b1"};
  std::string dict =
      std::string("{'descr': '") + descrs[int(a.type)] + "', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < a.shape.size(); ++i)
    dict += (i ? ", " : "") + std::to_string(a.shape[i]);
  dict += a.shape.size() == 1 ? ",), }" : "), }";
  size_t total = kMagic.size() + 4 + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict += '\n';
  std::string out(kMagic);
  out += '\x01';
  out += '\x00';
  out += char(dict.size() & 0xff);
  out += char(dict.size() >> 8);
  return out + dict;
}

//===----------------------------------------------------------------------===//
// .npy entry points
//===----------------------------------------------------------------------===//

std::optional<HostArray> readNpyBytes(std::span<const std::byte> bytes, std::string_view name,
                                      std::string &error) {
  error.clear();
  std::optional<NpyLayout> layout = parseNpyHeader(bytes, bytes.size(), error);
  HostArray a;
  if (layout) {
    a.type = layout->type;
    a.shape = layout->shape;
    auto data = bytes.subspan(layout->dataOffset);
    a.bytes.assign(data.begin(), data.end());
  }
  if (!layout || !finishArray(*layout, a, error)) {
    error = std::string(name) + ": " + error;
    return std::nullopt;
  }
  return a;
}

std::optional<HostArray> readNpy(const std::string &path, std::string &error) {
  error.clear();
  InputFile f;
  if (!f.open(path, error))
    return std::nullopt;
  // Read only the header first, then the elements straight into the array,
  // so a large file is not held in memory twice.
  std::vector<std::byte> head(std::min(f.size(), 12 + kNpyMaxHeaderLen));
  if (!f.readAt(0, head.data(), head.size(), error))
    return std::nullopt;
  std::optional<NpyLayout> layout = parseNpyHeader(head, f.size(), error);
  HostArray a;
  if (layout) {
    a.type = layout->type;
    a.shape = layout->shape;
    a.bytes.resize(layout->dataBytes);
    if (!f.readAt(layout->dataOffset, a.bytes.data(), a.bytes.size(), error))
      return std::nullopt;
  }
  if (!layout || !finishArray(*layout, a, error)) {
    error = path + ": " + error;
    return std::nullopt;
  }
  return a;
}

std::vector<std::byte> encodeNpy(const HostArray &array) {
  std::string header = npyHeader(array);
  std::vector<std::byte> out(header.size() + array.bytes.size());
  std::memcpy(out.data(), header.data(), header.size());
  std::copy(array.bytes.begin(), array.bytes.end(), out.begin() + header.size());
  return out;
}

bool writeNpy(const std::string &path, const HostArray &array, std::string &error) {
  error.clear();
  std::string header = npyHeader(array);
  AtomicFile file(path);
  return file.open(error) && file.write(header, error) && file.write(array.bytes, error) &&
         file.commit(error);
}

} // namespace gradc::runtime
