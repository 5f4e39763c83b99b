// sluice-load run as a real process by integration tests: its exit code, stdout and --json.
#pragma once

#include <signal.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "support/child_process.h"

namespace sluice::testing {

struct LoadRun {
  int exit_code = -1;
  std::vector<std::string> output;  // stdout
  nlohmann::json result;            // --json, when the run happened
};

// The sluice-load binary: SLUICE_TEST_LOAD_BIN (the TSan build, say) or this build's.
std::string load_bin();

// Runs `sluice-load TARGET ARGS... --json FILE --quiet` to its end (at most `timeout`).
LoadRun run_load(const std::string& target, std::vector<std::string> args,
                 std::chrono::seconds timeout = std::chrono::seconds(60));

// A run with --hold: started, and waited for until it says it holds its connections idle.
// finish() then waits for the exit and reads the result.
class HeldLoad {
 public:
  static std::optional<HeldLoad> start(const std::string& target, std::vector<std::string> args,
                                       std::chrono::seconds timeout);
  LoadRun finish(std::chrono::seconds timeout);
  // Ends the hold early: kills the process (its connections close).
  void stop() {
    process_->send_signal(SIGKILL);
    process_->wait_exit(std::chrono::seconds(10));
  }

 private:
  std::optional<ChildProcess> process_;
  std::string json_path_;
};

}  // namespace sluice::testing
