#include "sim/functional/tensor_file.h"

#include <zip.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>

#include "arch/support/checked.h"
#include "arch/support/error.h"
#include "arch/support/files.h"

namespace cascade {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicBytes = 6;

[[noreturn]] void fail(const std::string& path, const std::string& message) {
  throw Error(SourceLocation{path, 0, 0}, message);
}

// The header dict of a .npy file: {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// (NumPy writes exactly this form; keys may come in any order).
struct NpyHeader {
  std::string descr;
  bool fortran = false;
  std::vector<int64_t> shape;
};

class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& path) : s_(text), path_(path) {}

  NpyHeader parse() {
    NpyHeader h;
    bool descr = false, order = false, shape = false;
    expect('{');
    while (true) {
      skip();
      if (peek() == '}') break;
      const std::string key = quoted();
      expect(':');
      if (key == "descr") {
        h.descr = quoted(), descr = true;
      } else if (key == "fortran_order") {
        const std::string word = identifier();
        if (word != "True" && word != "False") error("fortran_order must be True or False");
        h.fortran = word == "True", order = true;
      } else if (key == "shape") {
        h.shape = tuple(), shape = true;
      } else {
        error("unknown header key '" + key + "'");
      }
      skip();
      if (peek() == ',') ++i_;
    }
    if (!descr || !order || !shape) error("the header lacks 'descr', 'fortran_order' or 'shape'");
    return h;
  }

 private:
  [[noreturn]] void error(const std::string& what) {
    fail(path_, "not a valid .npy header (" + what + "): " + s_.substr(0, 120));
  }
  void skip() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  char peek() {
    skip();
    return i_ < s_.size() ? s_[i_] : '\0';
  }
  void expect(char c) {
    if (peek() != c) error(std::string("expected '") + c + "'");
    ++i_;
  }
  std::string quoted() {
    const char q = peek();
    if (q != '\'' && q != '"') error("expected a quoted string");
    const size_t end = s_.find(q, ++i_);
    if (end == std::string::npos) error("unterminated string");
    std::string out = s_.substr(i_, end - i_);
    i_ = end + 1;
    return out;
  }
  std::string identifier() {
    skip();
    const size_t start = i_;
    while (i_ < s_.size() && std::isalpha(static_cast<unsigned char>(s_[i_]))) ++i_;
    return s_.substr(start, i_ - start);
  }
  std::vector<int64_t> tuple() {
    std::vector<int64_t> out;
    expect('(');
    while (peek() != ')') {
      const size_t start = i_;
      while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
      if (i_ == start || i_ - start > 18) error("a shape entry must be a non-negative integer");
      out.push_back(std::stoll(s_.substr(start, i_ - start)));
      if (peek() == 'L') ++i_;  // Python 2's long suffix
      if (peek() == ',') ++i_;
      else if (peek() != ')') error("expected ',' or ')' in the shape");
    }
    ++i_;
    return out;
  }

  const std::string& s_;
  const std::string& path_;
  size_t i_ = 0;
};

uint64_t load_unsigned(const unsigned char* p, size_t bytes, bool big) {
  uint64_t v = 0;
  for (size_t k = 0; k < bytes; ++k) v |= uint64_t{p[big ? bytes - 1 - k : k]} << (8 * k);
  return v;
}

double half_to_double(uint16_t h) {
  const int sign = h >> 15, exponent = (h >> 10) & 0x1F, fraction = h & 0x3FF;
  double magnitude;
  if (exponent == 0x1F)
    magnitude = fraction ? std::numeric_limits<double>::quiet_NaN()
                         : std::numeric_limits<double>::infinity();
  else if (exponent == 0)
    magnitude = std::ldexp(fraction, -24);
  else
    magnitude = std::ldexp(fraction + 1024, exponent - 25);
  return sign ? -magnitude : magnitude;
}

// zip_t / zip_source_t owners.
struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct ZipFileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};

}  // namespace

std::string shape_text(const std::vector<int64_t>& extents) {
  std::string out = "(";
  for (size_t k = 0; k < extents.size(); ++k)
    out += (k ? ", " : "") + std::to_string(extents[k]);
  return out + (extents.size() == 1 ? ",)" : ")");
}

Tensor parse_npy(const std::string& bytes, const std::string& path) {
  if (bytes.size() < 10 || bytes.compare(0, kMagicBytes, kMagic, kMagicBytes) != 0)
    fail(path, "not a .npy file (no \\x93NUMPY magic at its start)");
  const auto* u = reinterpret_cast<const unsigned char*>(bytes.data());
  const int major = u[6];
  if (major < 1 || major > 3)
    fail(path, ".npy format version " + std::to_string(major) + " is not supported (1, 2, 3)");
  const size_t length_bytes = major == 1 ? 2 : 4;
  const size_t header_start = 8 + length_bytes;
  if (bytes.size() < header_start) fail(path, "truncated .npy header");
  const uint64_t header_length = load_unsigned(u + 8, length_bytes, false);
  if (header_length > bytes.size() - header_start) fail(path, "truncated .npy header");
  const NpyHeader h =
      HeaderParser(bytes.substr(header_start, header_length), path).parse();

  const std::string& d = h.descr;
  if (d.size() < 3 || (d[0] != '<' && d[0] != '>' && d[0] != '=' && d[0] != '|') ||
      d[1] != 'f' || (d.substr(2) != "2" && d.substr(2) != "4" && d.substr(2) != "8"))
    fail(path, "dtype '" + d +
                   "' is not a float dtype NumPy writes (float16 '<f2', float32 '<f4', float64 "
                   "'<f8'); convert with .astype(numpy.float32)" +
                   (d.find('V') != std::string::npos ? " (bfloat16 arrays are stored as void)"
                                                     : ""));
  const bool big = d[0] == '>';
  const size_t item = static_cast<size_t>(d[2] - '0');
  int64_t count = 1;
  const SourceLocation where{path, 0, 0};
  for (int64_t e : h.shape) count = checked_mul(count, e, "the element count of " + path, where);
  const uint64_t data_bytes = static_cast<uint64_t>(
      checked_mul(count, static_cast<int64_t>(item), "the data size of " + path, where));
  const size_t data_start = header_start + header_length;
  if (bytes.size() - data_start != data_bytes)
    fail(path, "shape " + shape_text(h.shape) + " of " + d + " needs " +
                   std::to_string(data_bytes) + " data bytes, the file has " +
                   std::to_string(bytes.size() - data_start));

  Tensor t(h.shape);
  if (count == 0) return t;  // a zero extent: no data, and the strides below could overflow
  const unsigned char* data = u + data_start;
  // Fortran order: element k of the file is the k-th in column-major order.
  std::vector<int64_t> stride(h.shape.size(), 1);
  for (size_t k = h.shape.size(); k-- > 1;) stride[k - 1] = stride[k] * h.shape[k];
  std::vector<int64_t> index(h.shape.size(), 0);
  for (int64_t k = 0; k < count; ++k) {
    const uint64_t raw = load_unsigned(data + static_cast<size_t>(k) * item, item, big);
    const double v = item == 2   ? half_to_double(static_cast<uint16_t>(raw))
                     : item == 4 ? static_cast<double>(std::bit_cast<float>(
                                       static_cast<uint32_t>(raw)))
                                 : std::bit_cast<double>(raw);
    if (!h.fortran) {
      t.values[static_cast<size_t>(k)] = v;
      continue;
    }
    int64_t offset = 0;
    for (size_t a = 0; a < index.size(); ++a) offset += index[a] * stride[a];
    t.values[static_cast<size_t>(offset)] = v;
    for (size_t a = 0; a < index.size() && ++index[a] == h.shape[a]; ++a) index[a] = 0;
  }
  return t;
}

std::string npy_bytes(const Tensor& tensor) {
  std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': " +
                       shape_text(tensor.extents) + ", }";
  // np.save pads with spaces so that magic + version + length + header ends at a multiple
  // of 64, the header ending in a newline.
  const size_t unpadded = kMagicBytes + 2 + 2 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  std::string out(kMagic, kMagicBytes);
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xFF);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  for (double v : tensor.values) {
    const uint64_t bits = std::bit_cast<uint64_t>(v);
    for (int k = 0; k < 8; ++k) out += static_cast<char>((bits >> (8 * k)) & 0xFF);
  }
  return out;
}

std::vector<std::pair<std::string, Tensor>> parse_npz(const std::string& bytes,
                                                      const std::string& path) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (source == nullptr) fail(path, std::string("cannot read the archive: ") + zip_error_strerror(&error));
  std::unique_ptr<zip_t, ZipCloser> archive(zip_open_from_source(source, ZIP_RDONLY, &error));
  if (!archive) {
    zip_source_free(source);
    const std::string why = zip_error_strerror(&error);
    zip_error_fini(&error);
    fail(path, "not a .npz (zip) archive: " + why);
  }
  zip_error_fini(&error);
  std::vector<std::pair<std::string, Tensor>> out;
  const zip_int64_t entries = zip_get_num_entries(archive.get(), 0);
  for (zip_int64_t k = 0; k < entries; ++k) {
    zip_stat_t st;
    if (zip_stat_index(archive.get(), static_cast<zip_uint64_t>(k), 0, &st) != 0)
      fail(path, std::string("cannot read entry: ") + zip_strerror(archive.get()));
    const std::string name = st.name;
    if (name.size() < 5 || !name.ends_with(".npy"))
      fail(path, "entry '" + name + "' is not a .npy array");
    // An entry's claimed size is not trusted: deflate expands at most 1032:1, so more than
    // that over the compressed size is a damaged (or hostile) archive; the data are read in
    // chunks and must come to exactly the claimed size (fuzz_tensor_file's finding: a 1 GiB
    // claim on a few bytes took seconds to allocate).
    const zip_uint64_t packed = (st.valid & ZIP_STAT_COMP_SIZE) ? st.comp_size : bytes.size();
    const zip_uint64_t limit =
        std::min<zip_uint64_t>(kMaxInputBytes * 16, std::min<zip_uint64_t>(packed, bytes.size()) * 1032 + 4096);
    if (st.size > limit)
      fail(path, "entry '" + name + "' claims " + std::to_string(st.size) + " bytes from " +
                     std::to_string(packed) + " compressed (damaged archive)");
    std::unique_ptr<zip_file_t, ZipFileCloser> file(
        zip_fopen_index(archive.get(), static_cast<zip_uint64_t>(k), 0));
    if (!file) fail(path, "cannot open entry '" + name + "': " + zip_strerror(archive.get()));
    std::string data;
    char chunk[1 << 16];
    zip_int64_t got = 0;
    while ((got = zip_fread(file.get(), chunk, sizeof chunk)) > 0) {
      data.append(chunk, static_cast<size_t>(got));
      if (data.size() > st.size) break;
    }
    if (got < 0 || data.size() != st.size)
      fail(path, "cannot read entry '" + name + "' (damaged archive)");
    out.emplace_back(name.substr(0, name.size() - 4), parse_npy(data, path + ":" + name));
  }
  return out;
}

std::string npz_bytes(const std::vector<std::pair<std::string, Tensor>>& tensors) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* buffer = zip_source_buffer_create(nullptr, 0, 0, &error);
  if (buffer == nullptr) throw Error(std::string("libzip: ") + zip_error_strerror(&error));
  zip_source_keep(buffer);  // read the finished archive back after zip_close
  zip_t* archive = zip_open_from_source(buffer, ZIP_TRUNCATE, &error);
  if (archive == nullptr) {
    zip_source_free(buffer);
    throw Error(std::string("libzip: ") + zip_error_strerror(&error));
  }
  std::vector<std::string> payloads;
  payloads.reserve(tensors.size());
  for (const auto& [name, tensor] : tensors) {
    payloads.push_back(npy_bytes(tensor));
    zip_source_t* entry =
        zip_source_buffer(archive, payloads.back().data(), payloads.back().size(), 0);
    const zip_int64_t index =
        entry ? zip_file_add(archive, (name + ".npy").c_str(), entry, ZIP_FL_ENC_UTF_8) : -1;
    if (index < 0) {
      if (entry) zip_source_free(entry);
      const std::string why = zip_strerror(archive);
      zip_discard(archive);
      zip_source_free(buffer);
      throw Error("libzip: cannot add " + name + ".npy: " + why);
    }
    zip_set_file_compression(archive, static_cast<zip_uint64_t>(index), ZIP_CM_STORE, 0);
    zip_file_set_mtime(archive, static_cast<zip_uint64_t>(index), 315532800, 0);  // 1980-01-01
  }
  if (zip_close(archive) != 0) {
    const std::string why = zip_strerror(archive);
    zip_discard(archive);
    zip_source_free(buffer);
    throw Error("libzip: cannot write the archive: " + why);
  }
  std::string out;
  zip_stat_t st;
  if (zip_source_stat(buffer, &st) == 0 && zip_source_open(buffer) == 0) {
    out.resize(static_cast<size_t>(st.size));
    const zip_int64_t got = zip_source_read(buffer, out.data(), st.size);
    zip_source_close(buffer);
    if (got != static_cast<zip_int64_t>(st.size)) out.clear();
  }
  zip_source_free(buffer);
  if (out.empty()) throw Error("libzip: cannot read back the written archive");
  return out;
}

}  // namespace cascade
