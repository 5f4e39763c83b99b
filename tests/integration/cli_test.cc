// The sluice command line: --check, --version, and bad configs named by file:line and field.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>

#include "support/bin_path.h"
#include "support/child_process.h"

namespace sluice::testing {
namespace {

using namespace std::chrono_literals;

struct Run {
  int code = -1;
  std::string output;  // stdout and stderr
};

Run run_sluice(const std::string& args) {
  auto child = ChildProcess::spawn("/bin/sh", {"-c", bin_path("sluice") + " " + args + " 2>&1"});
  Run r;
  if (!child) return r;
  for (auto& line : child->read_remaining_lines(10s)) r.output += line + "\n";
  r.code = child->wait_exit(10s).value_or(-1);
  return r;
}

std::string write_temp(const std::string& text) {
  char path[] = "/tmp/sluice-cli-XXXXXX.yaml";
  int fd = mkstemps(path, 5);
  ::close(fd);
  std::ofstream(path) << text;
  return path;
}

TEST(SluiceCli, VersionPrintsAndExitsZero) {
  auto r = run_sluice("--version");
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.output.rfind("sluice ", 0), 0u) << r.output;
}

TEST(SluiceCli, UnknownLogLevelIsRejected) {
  // spdlog would read it as "off" and the proxy would run without a word.
  auto r = run_sluice("--log-level verbose --check " SLUICE_EXAMPLE_CONFIG);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.output.find("--log-level: verbose not in"), std::string::npos) << r.output;
  // Any case of a known level is that level.
  EXPECT_EQ(run_sluice("--log-level INFO --check " SLUICE_EXAMPLE_CONFIG).code, 0);
}

TEST(SluiceCli, CheckAcceptsTheExample) {
  auto r = run_sluice("--check " SLUICE_EXAMPLE_CONFIG);
  EXPECT_EQ(r.code, 0) << r.output;
}

TEST(SluiceCli, CheckNamesFileLineAndField) {
  const std::string path = write_temp(
      "listeners:\n"
      "  - name: main\n"
      "    address: 127.0.0.1:8080\n"
      "clusters:\n"
      "  - name: backends\n"
      "    endpoints: [127.0.0.1:50051, 127.0.0.1:99999]\n");
  auto r = run_sluice("--check " + path);
  std::remove(path.c_str());
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.output.find(path + ":6:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("clusters[0].endpoints[1]"), std::string::npos) << r.output;
}

TEST(SluiceCli, BadConfigRefusesToStart) {
  const std::string path = write_temp("listeners: []\nclusterz: {}\n");
  auto r = run_sluice("--config " + path);
  std::remove(path.c_str());
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.output.find(path + ":"), std::string::npos) << r.output;
}

TEST(SluiceCli, QuickModeRejectsABadUpstream) {
  auto r = run_sluice("--listen 127.0.0.1:0 --upstream nonsense");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.output.find("--upstream"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace sluice::testing
