// Reading input files and writing outputs, the one way every command does it:
//
// - inputs: regular files only (a directory, /dev/zero or a FIFO is refused with a
//   message), at most kMaxInputBytes, errors with the path and the OS error;
// - outputs: each written to a temporary file in the target's directory and renamed over
//   the target only when every output of the command was written and closed without
//   error (so a failed or killed run leaves the previous file, never a half one); a target
//   that is not a regular file (/dev/null, /dev/full, a FIFO) is written in place, every
//   write and the close checked; an output that names an input, or another output, is
//   refused before anything is written.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace cascade {

constexpr size_t kMaxInputBytes = size_t{64} << 20;  // 64 MiB: configs are kilobytes

// The contents of `path`; `what` names the file in messages ("architecture file").
// Errors carry the path as their location.
std::string read_input_file(const std::string& path, const std::string& what,
                            size_t max_bytes = kMaxInputBytes);

// Whether two paths name the same file (the same inode, or, for paths that do not exist
// yet, the same normalized absolute path).
bool same_file(const std::string& a, const std::string& b);

// Outputs of one command, written together by commit().
class OutputFiles {
 public:
  // `option` names the output in messages ("--json").
  void add(const std::string& path, const std::string& option, std::string text);
  // Refuses (Error) an output that is one of `inputs` or another output; call before the
  // work that produces the outputs, so a mistake costs nothing.
  static void check_paths(const std::vector<std::pair<std::string, std::string>>& outputs,
                          const std::vector<std::pair<std::string, std::string>>& inputs);
  // Writes every output (temporary files, then renames). On an error no target is
  // touched, the temporary files are removed and an Error names the path and the OS error.
  void commit();

 private:
  struct Output {
    std::string path, option, text;
  };
  std::vector<Output> outputs_;
};

// One output written atomically (OutputFiles with one file).
void write_output_file(const std::string& path, const std::string& option,
                       const std::string& text);

// An output another library writes by name (SystemC's VCD writer): it writes temp(), a new
// file beside the target whose name ends in `suffix`; commit() renames it over the target
// (a device or FIFO target gets its contents); destroyed uncommitted (the run failed), the
// temporary file is removed and the target keeps what it had.
class StagedOutput {
 public:
  StagedOutput(std::string path, std::string option, const std::string& suffix = "");
  ~StagedOutput();
  StagedOutput(const StagedOutput&) = delete;
  StagedOutput& operator=(const StagedOutput&) = delete;
  const std::string& temp() const { return temp_; }
  void commit();

 private:
  std::string path_, option_, target_, temp_;
};

}  // namespace cascade
