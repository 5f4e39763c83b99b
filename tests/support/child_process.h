// A child process with its stdout piped to us (stderr inherited), for tests that launch real
// binaries. The destructor SIGKILLs and reaps a child that is still running (only its own PID).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "base/expected.h"

namespace sluice::testing {

class ChildProcess {
 public:
  // Starts `path` with `args` (argv[0] is `path`). Fails if the binary cannot be spawned.
  static Expected<ChildProcess, std::string> spawn(const std::string& path,
                                                   const std::vector<std::string>& args);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }

  // The next line of stdout without its '\n'; nullopt on timeout or at end of output
  // (stdout_closed() tells which). A partial last line is returned at end of output.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  // Every remaining line until the child closes stdout or `timeout` passes.
  std::vector<std::string> read_remaining_lines(std::chrono::milliseconds timeout);
  bool stdout_closed() const { return stdout_fd_ < 0; }

  // False if the child was already reaped or kill() failed.
  bool send_signal(int signal_number);

  // The exit code once the child exits (128 + N if signal N killed it); nullopt on timeout.
  // Once reaped, later calls return the same code at once.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  bool running();

 private:
  ChildProcess(pid_t pid, int stdout_fd) : pid_(pid), stdout_fd_(stdout_fd) {}
  void kill_and_reap();
  void close_stdout();

  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string buffer_;  // stdout read but not yet returned as a line
  std::optional<int> exit_code_;
};

}  // namespace sluice::testing
