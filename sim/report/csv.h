// CSV output shared by `cascade run --csv` and the sweeps.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace cascade {

// A field quoted as RFC 4180 asks when it holds a comma, a quote or a newline.
inline std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

using CsvRow = std::vector<std::pair<std::string, std::string>>;  // (column, value)

// Rows whose columns may differ (utilization_<array> per architecture) as one table: the
// header is the union of the columns in the order they first appear; a row lacking a
// column leaves it empty.
std::string csv_table(const std::vector<CsvRow>& rows);

}  // namespace cascade
