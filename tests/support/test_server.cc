#include "support/test_server.h"

#include <signal.h>

#include <charconv>
#include <utility>

#include <grpcpp/client_context.h>

#include "support/bin_path.h"
#include "support/grpc_helpers.h"

namespace sluice::testing {
namespace {

constexpr std::string_view kListeningPrefix = "listening on ";
constexpr auto kRpcTimeout = std::chrono::seconds(5);

std::string describe(const grpc::Status& status) {
  return "grpc status " + std::to_string(status.error_code()) + ": " + status.error_message();
}

}  // namespace

TestServer::TestServer(std::unique_ptr<ChildProcess> process, std::string address, uint16_t port,
                       std::string id)
    : process_(std::move(process)), address_(std::move(address)), port_(port), id_(std::move(id)) {}

Expected<TestServer, std::string> TestServer::start(const std::string& id,
                                                    const std::vector<std::string>& extra_args) {
  std::vector<std::string> args = {"--listen", "127.0.0.1:0"};
  if (!id.empty()) args.insert(args.end(), {"--id", id});
  args.insert(args.end(), extra_args.begin(), extra_args.end());

  const std::string path = bin_path("sluice-testserver");
  auto spawned = ChildProcess::spawn(path, args);
  if (!spawned) return Unexpected(spawned.error());
  auto process = std::make_unique<ChildProcess>(std::move(*spawned));

  const auto line = process->read_line(std::chrono::seconds(10));
  if (!line || !line->starts_with(kListeningPrefix)) {
    const auto code = process->wait_exit(std::chrono::milliseconds(200));
    return Unexpected(path + " did not report listening (" +
                      (line ? "got '" + *line + "'" : std::string("no output")) +
                      (code ? ", exit code " + std::to_string(*code) : std::string()) + ")");
  }
  std::string address = line->substr(kListeningPrefix.size());
  const size_t colon = address.rfind(':');
  unsigned port = 0;
  const char* port_begin = address.data() + colon + 1;
  const char* port_end = address.data() + address.size();
  if (colon == std::string::npos || std::from_chars(port_begin, port_end, port).ptr != port_end ||
      port == 0 || port > 65535) {
    return Unexpected("unparsable listening line '" + *line + "'");
  }
  std::string backend_id = id.empty() ? address : id;
  return TestServer(std::move(process), std::move(address), static_cast<uint16_t>(port),
                    std::move(backend_id));
}

std::shared_ptr<grpc::Channel> TestServer::channel() {
  if (!channel_) channel_ = make_channel(address_);
  return channel_;
}

sluice::test::v1::TestService::Stub& TestServer::stub() {
  if (!stub_) stub_ = sluice::test::v1::TestService::NewStub(channel());
  return *stub_;
}

Expected<sluice::test::v1::StatsResponse, std::string> TestServer::stats(bool reset) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kRpcTimeout);
  sluice::test::v1::StatsRequest request;
  request.set_reset(reset);
  sluice::test::v1::StatsResponse response;
  const grpc::Status status = stub().Stats(&ctx, request, &response);
  if (!status.ok()) return Unexpected("Stats: " + describe(status));
  return response;
}

Expected<void, std::string> TestServer::set_health(const std::string& service, bool serving) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kRpcTimeout);
  sluice::test::v1::SetHealthRequest request;
  request.set_service(service);
  request.set_serving(serving);
  sluice::test::v1::SetHealthResponse response;
  const grpc::Status status = stub().SetHealth(&ctx, request, &response);
  if (!status.ok()) return Unexpected("SetHealth: " + describe(status));
  return {};
}

Expected<TestServer::ExitReport, std::string> TestServer::stop(std::chrono::milliseconds timeout) {
  if (!process_->send_signal(SIGTERM)) return Unexpected(std::string("server already exited"));
  ExitReport report;
  report.output = process_->read_remaining_lines(timeout);
  const auto code = process_->wait_exit(timeout);
  if (!code) return Unexpected("server " + address_ + " did not exit after SIGTERM");
  report.exit_code = *code;
  return report;
}

}  // namespace sluice::testing
