#include "arch/support/error.h"

namespace cascade {

std::string SourceLocation::str() const {
  std::string out = file;
  if (line > 0) {
    if (!out.empty()) out.push_back(':');
    out.append(std::to_string(line));
    if (column > 0) {
      out.push_back(':');
      out.append(std::to_string(column));
    }
  }
  return out;
}

static std::string with_location(const SourceLocation& where, const std::string& message) {
  const std::string prefix = where.str();
  return prefix.empty() ? "error: " + message : prefix + ": error: " + message;
}

Error::Error(const std::string& message)
    : std::runtime_error("error: " + message), message_(message) {}

Error::Error(const SourceLocation& where, const std::string& message)
    : std::runtime_error(with_location(where, message)), where_(where), message_(message) {}

}  // namespace cascade
