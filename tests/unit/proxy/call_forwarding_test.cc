// The call forwarder (proxy::Call) and the upstream pool, in one process: a real Worker on its
// own thread between a scripted HTTP/2 client and scripted HTTP/2 backends (our own client and
// server connections on the test's loop, scripted_streams.h). The test decides when each end
// consumes and produces bytes, so what the proxy holds at each moment can be checked exactly:
// coupled flow control both ways, Trailers-Only, reset mapping, replay of refused streams with
// their body, a client's cancel reaching the backend, and the books balanced afterwards.
#include <gtest/gtest.h>

#include <asio.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "http2/client_connection.h"
#include "http2/server_connection.h"
#include "proxy/snapshot.h"
#include "proxy/stats.h"
#include "proxy/worker.h"
#include "unit/http2/scripted_streams.h"

namespace sluice::proxy {
namespace {

using namespace std::chrono_literals;
using namespace sluice::http2::testing;
using http2::ClientConnection;
using http2::ServerConnection;
using http2::ServerStream;

constexpr uint32_t kWindow = 65535;  // every stream window in these tests, on every hop

class CallForwarding : public ::testing::Test,
                       public ServerConnection::Owner,
                       public ClientConnection::Owner {
 protected:
  // A worker proxying pkg.Service to `endpoints` scripted backends (round robin), and a client
  // connection to it.
  void start(int endpoints) {
    std::string yaml =
        "workers: 1\n"
        "http2: {stream_window: " +
        std::to_string(kWindow) +
        "}\n"
        "listeners:\n  - name: main\n    address: 127.0.0.1:0\n"
        "routes:\n  - match: {service: pkg.Service}\n    cluster: backends\n"
        "clusters:\n  - name: backends\n    endpoints:\n";
    for (int i = 0; i < endpoints; ++i) {
      auto& a = backends_.emplace_back(std::make_unique<asio::ip::tcp::acceptor>(
          io_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)));
      accept(*a, i);
      yaml += "      - 127.0.0.1:" + std::to_string(a->local_endpoint().port()) + "\n";
    }
    auto config = config::parse_config_string(yaml, "call_forwarding_test.yaml");
    ASSERT_TRUE(config) << config.error().to_string();
    snapshot_ = Snapshot::build(std::make_shared<const config::Config>(std::move(*config)));
    worker_ = std::make_unique<Worker>(0, 1, snapshot_, stats_);
    auto ports = worker_->listen({0});
    ASSERT_TRUE(ports) << ports.error();
    worker_->start();
    http2::SessionSettings client;
    client.stream_window = kWindow;
    client_ = ClientConnection::create(io_.get_executor(), client, *this);
    client_->connect({asio::ip::make_address("127.0.0.1"), (*ports)[0]}, 5s);
  }
  void accept(asio::ip::tcp::acceptor& acceptor, int backend) {
    acceptor.async_accept([this, &acceptor, backend](asio::error_code ec, asio::ip::tcp::socket s) {
      if (ec) return;
      http2::SessionSettings settings;
      settings.stream_window = kWindow;
      auto conn = ServerConnection::create(std::move(s), settings, *this);
      backend_of_[conn.get()] = backend;
      backend_conns_.push_back(conn);
      conn->start();
      accept(acceptor, backend);
    });
  }
  void TearDown() override {
    if (client_) client_->close("test over");
    if (worker_) worker_->stop();
    for (auto& c : backend_conns_) c->close("test over");
    io_.poll();
  }

  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 5s) {
    const auto give_up = std::chrono::steady_clock::now() + limit;
    while (!done()) {
      if (std::chrono::steady_clock::now() > give_up) return false;
      io_.run_one_for(5ms);
    }
    return true;
  }
  void run_for(std::chrono::milliseconds time) { io_.run_for(time); }

  ScriptedClientStream& call(const std::string& body, bool consume_at_once = true) {
    auto s = std::make_unique<ScriptedClientStream>();
    s->conn = client_.get();
    s->request.bytes = body;
    s->consume_at_once = consume_at_once;
    auto id = client_->submit_request(grpc_request_headers("/pkg.Service/Method"),
                                      /*has_body=*/true, s.get());
    EXPECT_TRUE(id) << id.error();
    s->id = id ? *id : -1;
    client_streams_.push_back(std::move(s));
    return *client_streams_.back();
  }
  // The n-th request stream that reached any backend (0: the first).
  ScriptedServerStream& backend_stream(size_t n) {
    EXPECT_TRUE(run_until([&] { return backend_streams_.size() > n; })) << "no stream " << n;
    return *backend_streams_[n];
  }
  const EndpointStats& endpoint(int i) const { return *snapshot_->clusters[0].stats->endpoints[i]; }
  // What the worker holds: bytes received on either side and not passed on, and writes that
  // wait for a socket.
  int64_t held_downstream() const { return worker_->flow().downstream.unconsumed_bytes.load(); }
  int64_t held_upstream() const { return worker_->flow().upstream.unconsumed_bytes.load(); }
  // Every call over, nothing owed anywhere, nothing given back twice.
  void expect_books_balanced() {
    EXPECT_TRUE(run_until([&] {
      return read(stats_.calls_in_flight) == 0 && held_downstream() == 0 && held_upstream() == 0;
    })) << "in flight "
        << read(stats_.calls_in_flight) << ", held downstream " << held_downstream()
        << ", upstream " << held_upstream();
    EXPECT_EQ(worker_->flow().downstream.overconsumed_bytes.load(), 0u);
    EXPECT_EQ(worker_->flow().upstream.overconsumed_bytes.load(), 0u);
    EXPECT_EQ(client_->unconsumed(), 0u);
  }

  // ServerConnection::Owner (the backends)
  ServerStream* new_stream(ServerConnection& conn, int32_t stream_id) override {
    auto& s =
        backend_streams_.emplace_back(std::make_unique<ScriptedServerStream>(conn, stream_id));
    s->consume_at_once = backends_consume_at_once_;
    backend_of_stream_[s.get()] = backend_of_[&conn];
    if (on_backend_stream_) on_backend_stream_(*s);
    return s.get();
  }
  void on_connection_closed(ServerConnection&) override {}
  // ClientConnection::Owner (the client)
  void on_connected(ClientConnection&) override {}
  void on_capacity_changed(ClientConnection&) override {}
  void on_connection_closed(ClientConnection&, const std::string&) override {}

  asio::io_context io_;  // the client and the backends; the worker has its own
  ProxyStats stats_;
  std::shared_ptr<const Snapshot> snapshot_;
  std::unique_ptr<Worker> worker_;
  std::shared_ptr<ClientConnection> client_;
  std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> backends_;
  std::vector<std::shared_ptr<ServerConnection>> backend_conns_;
  std::map<const ServerConnection*, int> backend_of_;
  std::map<const ScriptedServerStream*, int> backend_of_stream_;  // which backend got the stream
  std::vector<std::unique_ptr<ScriptedServerStream>> backend_streams_;
  std::vector<std::unique_ptr<ScriptedClientStream>> client_streams_;
  bool backends_consume_at_once_ = true;
  std::function<void(ScriptedServerStream&)> on_backend_stream_;
};

TEST_F(CallForwarding, AnUploadIsHeldAtTheWindowsOfBothHopsUntilTheBackendReads) {
  start(1);
  backends_consume_at_once_ = false;
  const std::string body = patterned(1 << 20);
  auto& c = call(body);
  auto& b = backend_stream(0);
  // The backend's window filled; the proxy's downstream window filled behind it.
  ASSERT_TRUE(run_until([&] { return b.request_body.size() == kWindow; }));
  ASSERT_TRUE(run_until([&] { return c.request.sent == 2 * kWindow; }));
  run_for(100ms);  // the client has the whole body ready, yet may send no more
  EXPECT_EQ(b.request_body.size(), kWindow);
  EXPECT_EQ(c.request.sent, 2 * kWindow) << "one window at the backend, one held by the proxy";
  EXPECT_EQ(held_downstream(), kWindow);
  // The backend reads: everything flows, byte for byte.
  b.consume_at_once = true;
  b.consume_held();
  ASSERT_TRUE(run_until([&] { return b.request_ended; }));
  EXPECT_EQ(b.request_body, body);
  b.answer("ok");
  ASSERT_TRUE(run_until([&] { return c.closed_code.has_value(); }));
  EXPECT_EQ(*c.closed_code, 0u);
  EXPECT_EQ(c.response_body, "ok");
  EXPECT_EQ(header_value(c.response_trailers, "grpc-status"), "0");
  expect_books_balanced();
}

TEST_F(CallForwarding, ADownloadIsHeldAtTheWindowsOfBothHopsUntilTheClientReads) {
  start(1);
  auto& c = call("", /*consume_at_once=*/false);
  auto& b = backend_stream(0);
  ASSERT_TRUE(run_until([&] { return b.request_ended; }));
  const std::string body = patterned(1 << 20);
  b.answer(body);
  ASSERT_TRUE(run_until([&] { return c.response_body.size() == kWindow; }));
  ASSERT_TRUE(run_until([&] { return b.response.sent == 2 * kWindow; }));
  run_for(100ms);
  EXPECT_EQ(c.response_body.size(), kWindow);
  EXPECT_EQ(b.response.sent, 2 * kWindow) << "one window at the client, one held by the proxy";
  EXPECT_EQ(held_upstream(), kWindow);
  c.consume_at_once = true;
  c.consume_held();
  ASSERT_TRUE(run_until([&] { return c.closed_code.has_value(); }));
  EXPECT_EQ(c.response_body, body);
  EXPECT_EQ(header_value(c.response_trailers, "grpc-status"), "0");
  expect_books_balanced();
}

TEST_F(CallForwarding, TrailersOnlyStaysTrailersOnly) {
  start(1);
  auto& c = call("x");
  auto& b = backend_stream(0);
  ASSERT_TRUE(run_until([&] { return b.request_ended; }));
  b.respond("200", /*has_body=*/false, "5");
  ASSERT_TRUE(run_until([&] { return c.closed_code.has_value(); }));
  EXPECT_TRUE(c.headers_ended_stream) << "one HEADERS frame with END_STREAM";
  EXPECT_EQ(header_value(c.response_headers, "grpc-status"), "5");
  EXPECT_TRUE(c.response_body.empty());
  expect_books_balanced();
}

TEST_F(CallForwarding, ARefusedStreamIsReplayedOnTheOtherEndpointWithItsBody) {
  start(2);
  bool refused = false;
  on_backend_stream_ = [&](ScriptedServerStream& s) {
    if (refused) return;
    refused = true;
    s.conn.reset_stream(s.id, NGHTTP2_REFUSED_STREAM);
  };
  const std::string body = patterned(40000);
  auto& c = call(body);
  auto& replayed = backend_stream(1);
  ASSERT_TRUE(run_until([&] { return replayed.request_ended; }));
  EXPECT_EQ(replayed.request_body, body) << "the replay carries the whole body";
  EXPECT_NE(backend_of_stream_[backend_streams_[0].get()], backend_of_stream_[&replayed])
      << "another endpoint";
  replayed.answer("done");
  ASSERT_TRUE(run_until([&] { return c.closed_code.has_value(); }));
  EXPECT_EQ(*c.closed_code, 0u);
  EXPECT_EQ(c.response_body, "done");
  const int first = backend_of_stream_[backend_streams_[0].get()];
  EXPECT_EQ(read(endpoint(first).replays_refused), 1u);
  EXPECT_EQ(read(endpoint(1 - first).replays_refused), 0u);
  expect_books_balanced();
}

TEST_F(CallForwarding, UpstreamResetsBecomeTheMappedStatusOrAReset) {
  start(1);
  // Before any response: a gRPC status, Trailers-Only.
  auto& before = call("");
  auto& b1 = backend_stream(0);
  ASSERT_TRUE(run_until([&] { return b1.request_ended; }));
  b1.conn.reset_stream(b1.id, NGHTTP2_CANCEL);
  ASSERT_TRUE(run_until([&] { return before.closed_code.has_value(); }));
  EXPECT_TRUE(before.headers_ended_stream);
  EXPECT_EQ(header_value(before.response_headers, "grpc-status"), "1") << "CANCEL -> CANCELLED";
  // After the response headers: only a reset is true, with a code true of this hop.
  auto& after = call("");
  auto& b2 = backend_stream(1);
  ASSERT_TRUE(run_until([&] { return b2.request_ended; }));
  b2.response.complete = false;
  b2.respond("200", /*has_body=*/true);
  ASSERT_TRUE(run_until([&] { return !after.response_headers.empty(); }));
  b2.conn.reset_stream(b2.id, NGHTTP2_FLOW_CONTROL_ERROR);
  ASSERT_TRUE(run_until([&] { return after.closed_code.has_value(); }));
  EXPECT_EQ(*after.closed_code, static_cast<uint32_t>(NGHTTP2_INTERNAL_ERROR))
      << "the backend's flow-control error is not the client's";
  expect_books_balanced();
}

TEST_F(CallForwarding, AClientCancelResetsTheUpstreamStreamAndReleasesItsBytes) {
  start(1);
  auto& c = call("", /*consume_at_once=*/false);
  auto& b = backend_stream(0);
  ASSERT_TRUE(run_until([&] { return b.request_ended; }));
  b.answer(patterned(1 << 20));
  ASSERT_TRUE(run_until([&] { return held_upstream() == kWindow; }));
  client_->reset_stream(c.id, NGHTTP2_CANCEL);
  ASSERT_TRUE(run_until([&] { return b.closed_code.has_value(); }));
  EXPECT_EQ(*b.closed_code, static_cast<uint32_t>(NGHTTP2_CANCEL));
  c.consume_held();  // what reached the client before its cancel
  expect_books_balanced();
  EXPECT_EQ(read(endpoint(0).calls[static_cast<size_t>(wire::StatusCode::kCancelled)]), 1u);
}

}  // namespace
}  // namespace sluice::proxy
