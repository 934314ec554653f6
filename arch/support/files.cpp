#include "arch/support/files.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <tuple>
#include <utility>

#include "arch/support/checked.h"
#include "arch/support/error.h"

namespace cascade {

namespace {

std::string os_error(int err) { return std::strerror(err); }

const char* file_type(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

// Closes a descriptor on every path out of a scope.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  int release() {
    const int f = fd;
    fd = -1;
    return f;
  }
};

// Writes all of `text`; false with errno set on failure.
bool write_all(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) {
      errno = EIO;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

[[noreturn]] void write_error(const std::string& option, const std::string& path, int err) {
  throw Error("cannot write " + option + " file '" + path + "': " + os_error(err));
}

std::atomic<unsigned> temp_counter{0};

// A target written in place: not a regular file (a device, a FIFO, /dev/stdout).
bool write_in_place(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
}

// The file a regular-file output replaces (through a symbolic link, the file it names) and
// a fresh temporary name beside it ending in `suffix`; a directory is refused.
std::pair<std::string, std::string> staging_paths(const std::string& path, const std::string& option,
                                                  const std::string& suffix) {
  std::error_code ec;
  std::filesystem::path target(path);
  if (std::filesystem::is_symlink(target, ec)) target = std::filesystem::weakly_canonical(target, ec);
  if (std::filesystem::is_directory(target, ec))
    throw Error("cannot write " + option + " file '" + path + "': it is a directory");
  const std::filesystem::path dir =
      target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  const std::string temp = (dir / fmt::format(".{}.tmp-{}-{}{}", target.filename().string(),
                                              ::getpid(), temp_counter.fetch_add(1), suffix))
                               .string();
  return {target.string(), temp};
}

}  // namespace

std::string read_input_file(const std::string& path, const std::string& what, size_t max_bytes) {
  const SourceLocation where{path, 0, 0};
  // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below).
  Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
  if (f.fd < 0) throw Error(where, "cannot open " + what + ": " + os_error(errno));
  struct stat st;
  if (::fstat(f.fd, &st) != 0) throw Error(where, "cannot read " + what + ": " + os_error(errno));
  if (!S_ISREG(st.st_mode))
    throw Error(where, std::string("cannot read ") + what + ": it is " + file_type(st.st_mode) +
                           ", not a regular file");
  const auto too_large = [&](double size) {
    return Error(where, fmt::format("{} is {}, more than the {} an input file may have", what,
                                    human_bytes(size), human_bytes(double(max_bytes))));
  };
  if (static_cast<uint64_t>(st.st_size) > max_bytes) throw too_large(double(st.st_size));
  std::string text;
  text.reserve(static_cast<size_t>(st.st_size));
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(f.fd, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      throw Error(where, "cannot read " + what + ": " + os_error(errno));
    }
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > max_bytes) throw too_large(double(text.size()));  // it grew
  }
  return text;
}

bool same_file(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  if (::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0)
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  std::error_code ec;
  const auto na = std::filesystem::absolute(a, ec).lexically_normal();
  const auto nb = std::filesystem::absolute(b, ec).lexically_normal();
  return na == nb;
}

void OutputFiles::add(const std::string& path, const std::string& option, std::string text) {
  outputs_.push_back({path, option, std::move(text)});
}

void OutputFiles::check_paths(const std::vector<std::pair<std::string, std::string>>& outputs,
                              const std::vector<std::pair<std::string, std::string>>& inputs) {
  for (size_t i = 0; i < outputs.size(); ++i) {
    const auto& [path, option] = outputs[i];
    if (path.empty()) continue;
    if (write_in_place(path)) continue;  // /dev/null twice is fine
    for (const auto& [input, what] : inputs)
      if (!input.empty() && same_file(path, input))
        throw Error(option + " '" + path + "' is the " + what +
                        " this command reads: refusing to overwrite an input (give another path)");
    for (size_t j = 0; j < i; ++j)
      if (!outputs[j].first.empty() && same_file(path, outputs[j].first))
        throw Error(option + " and " + outputs[j].second + " name the same file '" + path + "'");
  }
}

void OutputFiles::commit() {
  struct Staged {
    const Output* output;
    std::string temp;  // "" = written in place
    std::string target;
  };
  std::vector<Staged> staged;
  auto remove_temps = [&] {
    for (const Staged& s : staged)
      if (!s.temp.empty()) ::unlink(s.temp.c_str());
  };
  try {
    for (const Output& o : outputs_) {
      if (write_in_place(o.path)) {
        Fd f{::open(o.path.c_str(), O_WRONLY | O_CLOEXEC | O_TRUNC)};
        if (f.fd < 0) write_error(o.option, o.path, errno);
        if (!write_all(f.fd, o.text)) write_error(o.option, o.path, errno);
        if (::close(f.release()) != 0) write_error(o.option, o.path, errno);
        staged.push_back({&o, "", o.path});
        continue;
      }
      const auto [target, temp] = staging_paths(o.path, o.option, "");
      Fd f{::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666)};
      if (f.fd < 0) write_error(o.option, o.path, errno);
      staged.push_back({&o, temp, target});
      if (!write_all(f.fd, o.text) || ::fsync(f.fd) != 0) write_error(o.option, o.path, errno);
      if (::close(f.release()) != 0) write_error(o.option, o.path, errno);
    }
    for (const Staged& s : staged)
      if (!s.temp.empty() && ::rename(s.temp.c_str(), s.target.c_str()) != 0)
        write_error(s.output->option, s.output->path, errno);
  } catch (...) {
    remove_temps();
    throw;
  }
}

void write_output_file(const std::string& path, const std::string& option,
                       const std::string& text) {
  OutputFiles out;
  out.add(path, option, text);
  out.commit();
}

StagedOutput::StagedOutput(std::string path, std::string option, const std::string& suffix)
    : path_(std::move(path)), option_(std::move(option)) {
  if (write_in_place(path_)) {
    // in the temporary directory; copied into the device by commit()
    temp_ = staging_paths((std::filesystem::temp_directory_path() / "cascade-output").string(),
                          option_, suffix)
                .second;
  } else {
    std::tie(target_, temp_) = staging_paths(path_, option_, suffix);
  }
}

StagedOutput::~StagedOutput() {
  if (!temp_.empty()) ::unlink(temp_.c_str());
}

void StagedOutput::commit() {
  if (temp_.empty()) return;
  if (!target_.empty()) {
    if (::rename(temp_.c_str(), target_.c_str()) != 0) write_error(option_, path_, errno);
  } else {  // a device or FIFO: its contents written in place
    write_output_file(path_, option_, read_input_file(temp_, option_ + " file", ~size_t{0}));
    ::unlink(temp_.c_str());
  }
  temp_.clear();
}

}  // namespace cascade
