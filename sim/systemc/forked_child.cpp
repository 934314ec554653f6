// Runs work in a forked child (forked_child.h): a pipe carries the reply, tagged 'R' (the
// result), 'E' (an Error: file NUL line NUL column NUL message) or 'X' (another exception).
#include "sim/systemc/forked_child.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "arch/support/error.h"

namespace cascade {

namespace {

void write_all(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the parent went away: nothing left to tell
    done += static_cast<size_t>(n);
  }
}

[[noreturn]] void child(int fd, const std::function<std::string()>& work) {
  std::string reply;
  try {
    reply = "R" + work();
  } catch (const Error& e) {
    const SourceLocation& at = e.where();
    reply = "E" + at.file + '\0' + std::to_string(at.line) + '\0' + std::to_string(at.column) +
            '\0' + e.message();
  } catch (const std::exception& e) {
    reply = std::string("X") + e.what();
  } catch (...) {
    reply = "Xunknown exception";
  }
  write_all(fd, reply);
  ::close(fd);
  std::fflush(stdout);
  std::fflush(stderr);
  ::_exit(0);
}

}  // namespace

std::string run_in_forked_child(const std::function<std::string()>& work, const std::string& what) {
  int fds[2];
  if (::pipe(fds) != 0) throw Error(what + ": pipe: " + std::strerror(errno));
  std::fflush(stdout);  // or the child's copy of buffered output is written twice
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    throw Error(what + ": fork: " + std::strerror(err));
  }
  if (pid == 0) {
    ::close(fds[0]);
    child(fds[1], work);
  }
  ::close(fds[1]);
  std::string reply;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    reply.append(buffer, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (reply.empty()) {
    if (WIFSIGNALED(status))
      throw Error(what + ": the simulation's process died of signal " +
                  std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")");
    throw Error(what + ": the simulation's process exited with status " +
                std::to_string(WEXITSTATUS(status)) + " without a result");
  }
  const std::string body = reply.substr(1);
  if (reply[0] == 'R') return body;
  if (reply[0] == 'E') {
    const size_t a = body.find('\0'), b = body.find('\0', a + 1), c = body.find('\0', b + 1);
    SourceLocation at;
    at.file = body.substr(0, a);
    at.line = std::atoi(body.substr(a + 1, b - a - 1).c_str());
    at.column = std::atoi(body.substr(b + 1, c - b - 1).c_str());
    throw Error(at, body.substr(c + 1));
  }
  throw std::runtime_error(body);
}

}  // namespace cascade
