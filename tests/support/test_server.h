// A sluice-testserver process for tests: one call starts it on 127.0.0.1:0 and returns once it
// listens; the destructor kills it if stop() was not called.
//
//   auto server = TestServer::start("a");
//   ASSERT_TRUE(server) << server.error();
//   auto reply = server->stub().Unary(&ctx, request, &response);
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/channel.h>

#include "base/expected.h"
#include "sluice/test/v1/test.grpc.pb.h"
#include "support/child_process.h"

namespace sluice::testing {

class TestServer {
 public:
  struct ExitReport {
    int exit_code = -1;
    std::vector<std::string> output;  // stdout after the listening line ("served N calls...")
  };

  // Spawns bin_path("sluice-testserver") --listen 127.0.0.1:0 [--id ID] EXTRA_ARGS... and
  // waits (up to 10 s) for its listening line. An empty id leaves the server's default (its
  // address).
  static Expected<TestServer, std::string> start(const std::string& id = "",
                                                 const std::vector<std::string>& extra_args = {});

  TestServer(TestServer&&) noexcept = default;
  TestServer& operator=(TestServer&&) noexcept = default;
  ~TestServer() = default;

  const std::string& address() const { return address_; }  // "127.0.0.1:PORT"
  uint16_t port() const { return port_; }
  const std::string& id() const { return id_; }  // what it sends as x-backend-id
  pid_t pid() const { return process_->pid(); }
  ChildProcess& process() { return *process_; }

  // A channel (unlimited message sizes) and stub to this server, made on first use.
  std::shared_ptr<grpc::Channel> channel();
  sluice::test::v1::TestService::Stub& stub();

  Expected<sluice::test::v1::StatsResponse, std::string> stats(bool reset = false);
  // Flips grpc.health.v1 for `service` ("" = the whole server).
  Expected<void, std::string> set_health(const std::string& service, bool serving);

  // SIGTERM, then collect the rest of stdout and the exit code. Fails if the server does not
  // exit within `timeout` (it is then killed by the destructor).
  Expected<ExitReport, std::string> stop(
      std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  TestServer(std::unique_ptr<ChildProcess> process, std::string address, uint16_t port,
             std::string id);

  std::unique_ptr<ChildProcess> process_;
  std::string address_;
  uint16_t port_ = 0;
  std::string id_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<sluice::test::v1::TestService::Stub> stub_;
};

}  // namespace sluice::testing
