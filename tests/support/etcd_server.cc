#include "support/etcd_server.h"

#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>

#include "etcd/rpc.grpc.pb.h"

namespace sluice::testing {
namespace {

constexpr auto kStartTimeout = std::chrono::seconds(10);
constexpr auto kCallTimeout = std::chrono::seconds(5);

// A port nobody listens on now (the kernel's pick for 127.0.0.1:0).
Expected<uint16_t, std::string> free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Unexpected(std::string("socket failed"));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  close(fd);
  if (!ok) return Unexpected(std::string("bind 127.0.0.1:0 failed"));
  return ntohs(addr.sin_port);
}

std::string find_etcd() {
  for (const char* path : {"/usr/bin/etcd", "/usr/local/bin/etcd"}) {
    if (access(path, X_OK) == 0) return path;
  }
  return "etcd";
}

std::string describe(const grpc::Status& status) {
  return "grpc status " + std::to_string(status.error_code()) + ": " + status.error_message();
}

template <typename Stub>
std::unique_ptr<Stub> stub_for(const std::string& endpoint) {
  return std::make_unique<Stub>(grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials()));
}

}  // namespace

Expected<std::unique_ptr<EtcdServer>, std::string> EtcdServer::start() {
  std::unique_ptr<EtcdServer> server(new EtcdServer);
  char dir[] = "/tmp/sluice-etcd-XXXXXX";
  if (mkdtemp(dir) == nullptr) return Unexpected(std::string("mkdtemp failed"));
  server->dir_ = dir;
  auto client = free_port();
  auto peer = free_port();
  if (!client || !peer) return Unexpected(client ? peer.error() : client.error());
  if (*client == *peer) return Unexpected(std::string("got the same free port twice"));
  server->client_port_ = *client;
  server->peer_port_ = *peer;
  server->endpoint_ = "127.0.0.1:" + std::to_string(*client);
  auto launched = server->launch();
  if (!launched) return Unexpected(launched.error());
  return server;
}

EtcdServer::~EtcdServer() {
  process_.reset();  // SIGKILL and reap, if still running
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
}

Expected<void, std::string> EtcdServer::launch() {
  const std::string client_url = "http://" + endpoint_;
  const std::string peer_url = "http://127.0.0.1:" + std::to_string(peer_port_);
  auto spawned = ChildProcess::spawn(
      find_etcd(), {"--name", "t", "--data-dir", dir_ + "/data", "--listen-client-urls", client_url,
                    "--advertise-client-urls", client_url, "--listen-peer-urls", peer_url,
                    "--initial-advertise-peer-urls", peer_url, "--initial-cluster", "t=" + peer_url,
                    "--logger", "zap", "--log-outputs", dir_ + "/etcd.log"});
  if (!spawned) return Unexpected("etcd: " + spawned.error());
  process_ = std::make_unique<ChildProcess>(std::move(*spawned));

  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  std::string last_error = "not ready";
  while (std::chrono::steady_clock::now() < deadline) {
    if (!process_->running()) {
      return Unexpected("etcd exited during start; its log ends:\n" + log_tail());
    }
    auto ready = range("/sluice-ready-probe");
    if (ready) return {};
    last_error = ready.error();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Unexpected("etcd on " + endpoint_ + " not ready within 10 s (" + last_error +
                    "); its log ends:\n" + log_tail());
}

Expected<void, std::string> EtcdServer::stop() {
  if (!process_) return {};
  if (!process_->send_signal(SIGTERM)) return Unexpected(std::string("etcd: kill failed"));
  if (!process_->wait_exit(std::chrono::seconds(10))) {
    return Unexpected(std::string("etcd did not exit within 10 s of SIGTERM"));
  }
  process_.reset();
  return {};
}

Expected<void, std::string> EtcdServer::restart() {
  if (process_) {
    auto stopped = stop();
    if (!stopped) return stopped;
  }
  return launch();
}

Expected<int64_t, std::string> EtcdServer::put(const std::string& key, const std::string& value) {
  etcdserverpb::PutRequest request;
  request.set_key(key);
  request.set_value(value);
  etcdserverpb::PutResponse response;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kCallTimeout);
  auto status = stub_for<etcdserverpb::KV::Stub>(endpoint_)->Put(&ctx, request, &response);
  if (!status.ok()) return Unexpected("put " + key + ": " + describe(status));
  return response.header().revision();
}

Expected<int64_t, std::string> EtcdServer::remove(const std::string& key) {
  etcdserverpb::DeleteRangeRequest request;
  request.set_key(key);
  etcdserverpb::DeleteRangeResponse response;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kCallTimeout);
  auto status = stub_for<etcdserverpb::KV::Stub>(endpoint_)->DeleteRange(&ctx, request, &response);
  if (!status.ok()) return Unexpected("delete " + key + ": " + describe(status));
  return response.header().revision();
}

Expected<std::map<std::string, std::string>, std::string> EtcdServer::range(
    const std::string& prefix) {
  etcdserverpb::RangeRequest request;
  request.set_key(prefix);
  std::string end = prefix;
  end.back() = static_cast<char>(end.back() + 1);  // test prefixes end in plain ASCII
  request.set_range_end(end);
  etcdserverpb::RangeResponse response;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
  auto status = stub_for<etcdserverpb::KV::Stub>(endpoint_)->Range(&ctx, request, &response);
  if (!status.ok()) return Unexpected("range " + prefix + ": " + describe(status));
  std::map<std::string, std::string> out;
  for (const auto& kv : response.kvs()) out[kv.key()] = kv.value();
  return out;
}

Expected<int64_t, std::string> EtcdServer::lease_of(const std::string& key) {
  etcdserverpb::RangeRequest request;
  request.set_key(key);
  etcdserverpb::RangeResponse response;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kCallTimeout);
  auto status = stub_for<etcdserverpb::KV::Stub>(endpoint_)->Range(&ctx, request, &response);
  if (!status.ok()) return Unexpected("range " + key + ": " + describe(status));
  return response.kvs_size() == 0 ? 0 : response.kvs(0).lease();
}

Expected<void, std::string> EtcdServer::revoke(int64_t lease) {
  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(lease);
  etcdserverpb::LeaseRevokeResponse response;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kCallTimeout);
  auto status =
      stub_for<etcdserverpb::Lease::Stub>(endpoint_)->LeaseRevoke(&ctx, request, &response);
  if (!status.ok()) return Unexpected("revoke: " + describe(status));
  return {};
}

Expected<void, std::string> EtcdServer::compact(int64_t revision) {
  etcdserverpb::CompactionRequest request;
  request.set_revision(revision);
  request.set_physical(true);
  etcdserverpb::CompactionResponse response;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kCallTimeout);
  auto status = stub_for<etcdserverpb::KV::Stub>(endpoint_)->Compact(&ctx, request, &response);
  if (!status.ok()) return Unexpected("compact: " + describe(status));
  return {};
}

std::string EtcdServer::log_tail() const {
  std::ifstream in(dir_ + "/etcd.log");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::ostringstream out;
  for (size_t i = lines.size() > 20 ? lines.size() - 20 : 0; i < lines.size(); ++i) {
    out << lines[i] << "\n";
  }
  return out.str();
}

}  // namespace sluice::testing
