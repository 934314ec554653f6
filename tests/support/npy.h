// A small header-only reader for NumPy .npy files (format versions 1.0, 2.0 and 3.0):
// float32 ('<f4') and float64 ('<f8') arrays in C order, little-endian. Anything else
// (another dtype, big-endian data, Fortran order, a truncated or oversized file, a
// malformed header) throws cascade::Error naming the file and what is wrong.
//
//   cascade::npy::Array a = cascade::npy::load("tests/golden/x.npy");
//   a.shape == {E, P};  a.data[e * P + p]  (values widened to double, exactly)
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "arch/support/error.h"

namespace cascade::npy {

struct Array {
  std::vector<int64_t> shape;  // () for a 0-d array (one element)
  std::string dtype;           // "<f4" or "<f8", as stored
  std::vector<double> data;    // C order, widened to double (float32 -> double is exact)

  int64_t size() const { return static_cast<int64_t>(data.size()); }
  int64_t dim(size_t i) const { return shape.at(i); }
};

namespace detail {

[[noreturn]] inline void fail(const std::string& what, const std::string& message) {
  throw Error("npy: " + what + ": " + message);
}

inline uint32_t read_le(const unsigned char* p, int bytes) {
  uint32_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Value of `key` in the header dict, as raw text up to the next top-level ',' or '}'
// (a tuple value keeps its parentheses).
inline std::string dict_value(std::string_view header, std::string_view key,
                              const std::string& what) {
  size_t pos = std::string_view::npos;
  for (char quote : {'\'', '"'}) {
    std::string k = std::string(1, quote) + std::string(key) + quote;
    pos = header.find(k);
    if (pos != std::string_view::npos) {
      pos += k.size();
      break;
    }
  }
  if (pos == std::string_view::npos) fail(what, "header has no '" + std::string(key) + "'");
  pos = header.find(':', pos);
  if (pos == std::string_view::npos) fail(what, "header: no ':' after '" + std::string(key) + "'");
  ++pos;
  while (pos < header.size() && header[pos] == ' ') ++pos;
  size_t end = pos;
  int depth = 0;
  while (end < header.size()) {
    char c = header[end];
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth == 0 && (c == ',' || c == '}')) break;
    if (depth < 0) fail(what, "header: unbalanced ')'");
    ++end;
  }
  if (depth != 0) fail(what, "header: unterminated tuple for '" + std::string(key) + "'");
  std::string value(header.substr(pos, end - pos));
  while (!value.empty() && value.back() == ' ') value.pop_back();
  return value;
}

inline std::vector<int64_t> parse_shape(const std::string& text, const std::string& what) {
  if (text.size() < 2 || text.front() != '(' || text.back() != ')')
    fail(what, "header: shape is not a tuple: " + text);
  std::vector<int64_t> shape;
  std::string inner = text.substr(1, text.size() - 2);
  std::stringstream ss(inner);
  std::string item;
  while (std::getline(ss, item, ',')) {
    size_t b = item.find_first_not_of(" \t");
    if (b == std::string::npos) continue;  // "(3,)" -> trailing empty item
    size_t e = item.find_last_not_of(" \tL");
    std::string digits = item.substr(b, e - b + 1);
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos)
      fail(what, "header: bad shape entry '" + item + "'");
    if (digits.size() > 15) fail(what, "header: shape entry too large '" + digits + "'");
    shape.push_back(std::stoll(digits));
  }
  return shape;
}

}  // namespace detail

// Parses the bytes of a .npy file. `what` names the source in error messages.
inline Array parse(std::string_view bytes, const std::string& what) {
  static constexpr unsigned char kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  const auto* u = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < 10 || std::memcmp(u, kMagic, 6) != 0)
    detail::fail(what, "not a .npy file (bad magic)");
  const int major = u[6];
  size_t header_len = 0, header_start = 0;
  if (major == 1) {
    header_len = detail::read_le(u + 8, 2);
    header_start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) detail::fail(what, "truncated header");
    header_len = detail::read_le(u + 8, 4);
    header_start = 12;
  } else {
    detail::fail(what, "unsupported .npy format version " + std::to_string(major));
  }
  if (header_start + header_len > bytes.size()) detail::fail(what, "truncated header");
  std::string_view header = bytes.substr(header_start, header_len);
  if (header.find('{') == std::string_view::npos) detail::fail(what, "header is not a dict");

  Array a;
  std::string descr = detail::dict_value(header, "descr", what);
  if (descr.size() >= 2 && (descr.front() == '\'' || descr.front() == '"'))
    descr = descr.substr(1, descr.size() - 2);
  size_t itemsize = 0;
  if (descr == "<f4") {
    itemsize = 4;
  } else if (descr == "<f8") {
    itemsize = 8;
  } else {
    detail::fail(what, "unsupported dtype '" + descr +
                           "' (only little-endian float32 '<f4' and float64 '<f8')");
  }
  a.dtype = descr;
  const std::string order = detail::dict_value(header, "fortran_order", what);
  if (order == "True") detail::fail(what, "Fortran-order arrays are not supported (need C order)");
  if (order != "False") detail::fail(what, "header: bad fortran_order '" + order + "'");
  a.shape = detail::parse_shape(detail::dict_value(header, "shape", what), what);

  uint64_t count = 1;
  for (int64_t d : a.shape) {
    if (d != 0 && count > (uint64_t{1} << 40) / static_cast<uint64_t>(d))
      detail::fail(what, "shape too large");
    count *= static_cast<uint64_t>(d);
  }
  const size_t data_start = header_start + header_len;
  const uint64_t expected = count * itemsize;
  const uint64_t available = bytes.size() - data_start;
  if (available != expected)
    detail::fail(what, "data is " + std::to_string(available) + " bytes, shape and dtype say " +
                           std::to_string(expected));

  a.data.resize(count);
  const unsigned char* p = u + data_start;
  for (uint64_t i = 0; i < count; ++i, p += itemsize) {
    unsigned char b[8];
    std::memcpy(b, p, itemsize);
    if constexpr (std::endian::native == std::endian::big) {
      for (size_t j = 0; j < itemsize / 2; ++j) std::swap(b[j], b[itemsize - 1 - j]);
    }
    if (itemsize == 4) {
      float f;
      std::memcpy(&f, b, 4);
      a.data[i] = static_cast<double>(f);
    } else {
      double d;
      std::memcpy(&d, b, 8);
      a.data[i] = d;
    }
  }
  return a;
}

// Reads and parses a .npy file.
inline Array load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("npy: " + path + ": cannot open");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw Error("npy: " + path + ": read error");
  return parse(bytes, path);
}

}  // namespace cascade::npy
