#include "sim/report/csv.h"

#include <map>

namespace cascade {

std::string csv_table(const std::vector<CsvRow>& rows) {
  std::vector<std::string> header;
  std::map<std::string, size_t> column;
  for (const CsvRow& row : rows)
    for (const auto& [name, value] : row)
      if (column.emplace(name, header.size()).second) header.push_back(name);
  std::string out;
  for (size_t c = 0; c < header.size(); ++c) out += (c ? "," : "") + csv_field(header[c]);
  out += "\n";
  std::vector<std::string> fields(header.size());
  for (const CsvRow& row : rows) {
    std::fill(fields.begin(), fields.end(), std::string());
    for (const auto& [name, value] : row) fields[column.at(name)] = value;
    for (size_t c = 0; c < fields.size(); ++c) out += (c ? "," : "") + csv_field(fields[c]);
    out += "\n";
  }
  return out;
}

}  // namespace cascade
