// CSV output shared by `cascade run --csv` and the sweeps.
#pragma once

#include <string>

namespace cascade {

// A field quoted as RFC 4180 asks when it holds a comma, a quote or a newline.
inline std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

}  // namespace cascade
