// The one error type of cascade. Every error that comes from a source file (a cascade,
// an architecture, a workload, a mapping) carries file:line:col; the CLI prints
// `what()` and exits 2.
#pragma once

#include <stdexcept>
#include <string>

namespace cascade {

struct SourceLocation {
  std::string file;  // empty when the text did not come from a file
  int line = 0;      // 1-based; 0 = unknown
  int column = 0;    // 1-based; 0 = unknown

  bool known() const { return line > 0; }
  // "file:line:col", "file", or "" depending on what is known.
  std::string str() const;
};

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message);
  Error(const SourceLocation& where, const std::string& message);

  const SourceLocation& where() const { return where_; }
  // The message without the location prefix.
  const std::string& message() const { return message_; }

 private:
  SourceLocation where_;
  std::string message_;
};

}  // namespace cascade
