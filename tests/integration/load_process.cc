#include "integration/load_process.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "support/bin_path.h"

namespace sluice::testing {
namespace {

std::string next_json_path() {
  static std::atomic<int> counter{0};
  return ::testing::TempDir() + "sluice-load-" + std::to_string(::getpid()) + "-" +
         std::to_string(counter++) + ".json";
}

std::optional<ChildProcess> spawn_load(const std::string& target, std::vector<std::string> args,
                                       const std::string& json_path) {
  std::remove(json_path.c_str());
  args.insert(args.begin(), target);
  args.insert(args.end(), {"--json", json_path, "--quiet"});
  auto process = ChildProcess::spawn(load_bin(), args);
  EXPECT_TRUE(process) << process.error();
  if (!process) return std::nullopt;
  return std::move(*process);
}

void read_result(const std::string& json_path, LoadRun& run) {
  std::ifstream in(json_path);
  if (in) run.result = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  std::remove(json_path.c_str());
}

}  // namespace

std::string load_bin() {
  const char* bin = std::getenv("SLUICE_TEST_LOAD_BIN");
  return bin != nullptr && *bin != '\0' ? bin : bin_path("sluice-load");
}

LoadRun run_load(const std::string& target, std::vector<std::string> args,
                 std::chrono::seconds timeout) {
  const std::string json_path = next_json_path();
  LoadRun run;
  auto process = spawn_load(target, std::move(args), json_path);
  if (!process) return run;
  run.output = process->read_remaining_lines(timeout);
  run.exit_code = process->wait_exit(std::chrono::seconds(10)).value_or(-1);
  read_result(json_path, run);
  return run;
}

std::optional<HeldLoad> HeldLoad::start(const std::string& target, std::vector<std::string> args,
                                        std::chrono::seconds timeout) {
  HeldLoad held;
  held.json_path_ = next_json_path();
  held.process_ = spawn_load(target, std::move(args), held.json_path_);
  if (!held.process_) return std::nullopt;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto line = held.process_->read_line(std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now()));
    if (!line) break;
    if (line->rfind("holding ", 0) == 0) return held;
  }
  ADD_FAILURE() << "sluice-load never held its connections";
  return std::nullopt;
}

LoadRun HeldLoad::finish(std::chrono::seconds timeout) {
  LoadRun run;
  run.output = process_->read_remaining_lines(timeout);
  run.exit_code = process_->wait_exit(std::chrono::seconds(10)).value_or(-1);
  read_result(json_path_, run);
  return run;
}

}  // namespace sluice::testing
