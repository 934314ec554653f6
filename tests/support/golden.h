// Loading the GPU golden vectors of tests/golden/ (written by
// experiments/gpu/make_golden.py) and comparing outputs against them. Header-only;
// reusable by any test (the executor-vs-golden checks too).
//
//   auto manifest = cascade::golden::load_manifest(CASCADE_SOURCE_DIR "/tests/golden");
//   for (const auto& c : manifest.cases) {
//     auto q = manifest.array(c, "q");            // [E][P] (2D neighborhood: [E][Y][X])
//     ... c.param_int("P"), c.param_double("scale"), c.param_bool("causal") ...
//     auto err = cascade::golden::compare(got, manifest.array(c, "out").data);
//   }
//
// Each case is one (variant, parameters, format): files q, k, v (inputs rounded to the
// format, float32), out (the GPU kernel's output in the format, float32) and ref (the
// fp64 naive reference on the same inputs, float64). Layout is cascade's: q [E][P],
// k [E][M], v [F][M], out/ref [F][P]; one (batch, head).
#pragma once

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "arch/support/error.h"
#include "tests/support/npy.h"

namespace cascade::golden {

struct Case {
  std::string name;     // e.g. "softmax_causal_p96_m160"
  std::string variant;  // softmax | linear | lightning | neighborhood
  std::string format;   // fp32 | bf16 | fp16
  std::string kernel;   // which GPU kernel produced `out` (e.g. "sdpa:FLASH_ATTENTION")
  nlohmann::json params;
  std::map<std::string, std::string> files;  // q k v out ref -> file name

  // "<name>_<format>" with every character outside [A-Za-z0-9_] replaced by '_'.
  std::string id() const {
    std::string s = name + "_" + format;
    for (char& ch : s)
      if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '_') ch = '_';
    return s;
  }
  bool has(const std::string& key) const { return params.contains(key) && !params[key].is_null(); }
  int64_t param_int(const std::string& key) const { return get(key).get<int64_t>(); }
  double param_double(const std::string& key) const { return get(key).get<double>(); }
  bool param_bool(const std::string& key) const { return get(key).get<bool>(); }
  std::string param_string(const std::string& key) const { return get(key).get<std::string>(); }
  std::vector<int64_t> param_ints(const std::string& key) const {
    return get(key).get<std::vector<int64_t>>();
  }
  std::vector<bool> param_bools(const std::string& key) const {
    return get(key).get<std::vector<bool>>();
  }

 private:
  const nlohmann::json& get(const std::string& key) const {
    if (!has(key)) throw Error("golden case " + id() + ": no parameter '" + key + "'");
    return params[key];
  }
};

struct Manifest {
  std::string dir;
  nlohmann::json provenance;
  std::vector<Case> cases;

  std::string path(const Case& c, const std::string& key) const {
    auto it = c.files.find(key);
    if (it == c.files.end()) throw Error("golden case " + c.id() + ": no file '" + key + "'");
    return dir + "/" + it->second;
  }
  npy::Array array(const Case& c, const std::string& key) const { return npy::load(path(c, key)); }
};

// Reads <dir>/manifest.json. Cases without files (no kernel passed on the GPU) are kept
// out of `cases`; a malformed manifest throws cascade::Error.
inline Manifest load_manifest(const std::string& dir) {
  const std::string file = dir + "/manifest.json";
  std::ifstream in(file);
  if (!in) throw Error("golden: cannot open " + file);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw Error("golden: " + file + ": " + e.what());
  }
  Manifest m;
  m.dir = dir;
  try {
    m.provenance = j.at("provenance");
    for (const auto& c : j.at("cases")) {
      if (!c.contains("files") || c["kernel"].is_null()) continue;
      Case g;
      g.name = c.at("name").get<std::string>();
      g.variant = c.at("variant").get<std::string>();
      g.format = c.at("format").get<std::string>();
      g.kernel = c.at("kernel").get<std::string>();
      g.params = c.at("params");
      g.files = c.at("files").get<std::map<std::string, std::string>>();
      m.cases.push_back(std::move(g));
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error("golden: " + file + ": " + e.what());
  }
  return m;
}

// How far `got` is from `want`: max_abs = max|got - want|, scale = max|want|,
// rel_max = max_abs / scale, rel_l2 = ||got - want|| / ||want||. A size mismatch or any
// non-finite value in `got` gives infinite errors (never passes).
struct Comparison {
  double max_abs = 0.0;
  double scale = 0.0;
  double rel_max = 0.0;
  double rel_l2 = 0.0;
  bool ok_size = true;
};

inline Comparison compare(std::span<const double> got, std::span<const double> want) {
  Comparison c;
  constexpr double inf = std::numeric_limits<double>::infinity();
  if (got.size() != want.size()) {
    c.ok_size = false;
    c.max_abs = c.rel_max = c.rel_l2 = inf;
    return c;
  }
  double diff2 = 0.0, want2 = 0.0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (!std::isfinite(got[i])) {
      c.max_abs = c.rel_max = c.rel_l2 = inf;
      return c;
    }
    const double d = got[i] - want[i];
    c.max_abs = std::max(c.max_abs, std::abs(d));
    c.scale = std::max(c.scale, std::abs(want[i]));
    diff2 += d * d;
    want2 += want[i] * want[i];
  }
  const double tiny = std::numeric_limits<double>::min();
  c.rel_max = c.max_abs / std::max(c.scale, tiny);
  c.rel_l2 = std::sqrt(diff2) / std::max(std::sqrt(want2), tiny);
  return c;
}

}  // namespace cascade::golden
