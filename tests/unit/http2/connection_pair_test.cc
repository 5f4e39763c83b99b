// The HTTP/2 bridge on its own: a ClientConnection (the proxy's upstream side) talking to a
// ServerConnection (its downstream side) on one io_context over a loopback socket, i.e. two
// real nghttp2 sessions back to back. Scripted streams on either end decide when bytes are
// consumed and bodies produced, so flow control, deferred bodies, Trailers-Only, resets and
// the "processed" flag that decides replays are each seen from both ends.
#include <gtest/gtest.h>

#include <algorithm>
#include <asio.hpp>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http2/client_connection.h"
#include "http2/server_connection.h"
#include "unit/http2/scripted_streams.h"

namespace sluice::http2 {
namespace {

using namespace std::chrono_literals;
using namespace sluice::http2::testing;

// Both connections, their owners and the streams, on one io_context.
class ConnectionPair : public ::testing::Test,
                       public ServerConnection::Owner,
                       public ClientConnection::Owner {
 protected:
  // Connects a client with `client_settings` to a server with `server_settings`.
  void connect(SessionSettings server_settings = {}, SessionSettings client_settings = {}) {
    acceptor_.async_accept([this, server_settings](asio::error_code ec, asio::ip::tcp::socket s) {
      ASSERT_FALSE(ec) << ec.message();
      server_ = ServerConnection::create(std::move(s), server_settings, *this);
      server_->start();
    });
    client_ = ClientConnection::create(io_.get_executor(), client_settings, *this);
    client_->connect(acceptor_.local_endpoint(), 5s);
  }
  // Both ends close; streams still open hear of it while they exist.
  void TearDown() override {
    if (client_) client_->close("test over");
    if (server_) server_->close("test over");
    io_.poll();
  }
  // Runs the event loop until `done` holds; false if 5 s pass first.
  bool run_until(const std::function<bool()>& done) {
    const auto give_up = std::chrono::steady_clock::now() + 5s;
    while (!done()) {
      if (std::chrono::steady_clock::now() > give_up) return false;
      io_.run_one_for(10ms);
    }
    return true;
  }
  // Runs the loop for `time`: for checks that nothing more happens.
  void run_for(std::chrono::milliseconds time) { io_.run_for(time); }

  ScriptedClientStream& request(const std::string& body, bool complete = true) {
    auto s = std::make_unique<ScriptedClientStream>();
    s->conn = client_.get();
    s->request.bytes = body;
    s->request.complete = complete;
    auto id = client_->submit_request(grpc_request_headers("/pkg.Service/Method"),
                                      /*has_body=*/true, s.get());
    EXPECT_TRUE(id) << id.error();
    s->id = id ? *id : -1;
    client_streams_.push_back(std::move(s));
    return *client_streams_.back();
  }
  ScriptedServerStream* server_stream(int32_t id) {
    for (auto& s : server_streams_) {
      if (s->id == id) return s.get();
    }
    return nullptr;
  }
  // The server side of `c`, once its HEADERS arrived.
  ScriptedServerStream& wait_server_stream(const ScriptedClientStream& c) {
    EXPECT_TRUE(run_until([&] { return server_stream(c.id) != nullptr; }));
    return *server_stream(c.id);
  }
  // Nothing received and left unconsumed, on either side.
  void expect_nothing_owed() {
    EXPECT_EQ(client_->unconsumed(), 0u);
    EXPECT_EQ(server_->unconsumed(), 0u);
  }

  // ServerConnection::Owner
  ServerStream* new_stream(ServerConnection& conn, int32_t stream_id) override {
    server_streams_.push_back(std::make_unique<ScriptedServerStream>(conn, stream_id));
    server_streams_.back()->consume_at_once = backend_consumes_at_once_;
    return server_streams_.back().get();
  }
  void on_connection_closed(ServerConnection&) override { server_closed_ = true; }
  // ClientConnection::Owner
  void on_connected(ClientConnection&) override { connected_ = true; }
  void on_capacity_changed(ClientConnection&) override {}
  void on_goaway_received(ClientConnection&) override { goaway_ = true; }
  void on_connection_closed(ClientConnection&, const std::string& reason) override {
    client_closed_ = reason;
  }

  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_{io_, {asio::ip::make_address("127.0.0.1"), 0}};
  std::shared_ptr<ServerConnection> server_;
  std::shared_ptr<ClientConnection> client_;
  std::vector<std::unique_ptr<ScriptedServerStream>> server_streams_;
  std::vector<std::unique_ptr<ScriptedClientStream>> client_streams_;
  bool backend_consumes_at_once_ = true;  // for streams still to arrive
  bool connected_ = false;
  bool goaway_ = false;
  bool server_closed_ = false;
  std::optional<std::string> client_closed_;
};

TEST_F(ConnectionPair, ARequestAndAResponseWithTrailersLeaveNothingOwed) {
  connect();
  auto& c = request(patterned(1000));
  auto& s = wait_server_stream(c);
  ASSERT_TRUE(run_until([&] { return s.request_ended; }));
  EXPECT_EQ(s.request_body, patterned(1000));
  EXPECT_EQ(header_value(s.incoming_headers(), ":path"), "/pkg.Service/Method");
  s.response.bytes = patterned(3000);
  s.trailers.emplace();
  s.trailers->add("grpc-status", "0");
  s.respond("200", /*has_body=*/true);
  ASSERT_TRUE(run_until([&] { return c.closed_code && s.closed_code; }));
  EXPECT_EQ(*c.closed_code, 0u);
  EXPECT_TRUE(c.processed);
  EXPECT_EQ(*s.closed_code, 0u);
  EXPECT_EQ(header_value(c.response_headers, ":status"), "200");
  EXPECT_FALSE(c.headers_ended_stream);
  EXPECT_EQ(c.response_body, patterned(3000));
  EXPECT_EQ(header_value(c.response_trailers, "grpc-status"), "0");
  EXPECT_TRUE(c.response_ended);
  expect_nothing_owed();
  EXPECT_EQ(client_->active_streams(), 0u);
  EXPECT_EQ(server_->open_streams(), 0u);
}

TEST_F(ConnectionPair, AnUploadStopsAtTheStreamWindowUntilTheBackendConsumes) {
  SessionSettings server;
  server.stream_window = 65535;
  connect(server);
  const std::string body = patterned(1 << 20);
  backend_consumes_at_once_ = false;
  auto& c = request(body);
  auto& s = wait_server_stream(c);
  ASSERT_TRUE(run_until([&] { return s.request_body.size() == 65535; }));
  run_for(100ms);  // the client has the rest ready, yet may not send it
  EXPECT_EQ(s.request_body.size(), 65535u);
  EXPECT_EQ(server_->unconsumed(), 65535u);
  EXPECT_EQ(c.request.sent, 65535u) << "the client's body was read only as far as the window";
  // Consumed window by window, the whole body arrives, byte for byte.
  int windows = 1;
  while (!s.request_ended) {
    const size_t before = s.request_body.size();
    s.consume_held();
    ASSERT_TRUE(run_until([&] { return s.request_body.size() > before || s.request_ended; }));
    ++windows;
  }
  s.consume_held();
  EXPECT_EQ(s.request_body, body);
  EXPECT_GE(windows, 16) << "1 MiB through a 64 KiB window";
  s.respond("200", /*has_body=*/false);
  ASSERT_TRUE(run_until([&] { return c.closed_code && s.closed_code; }));
  expect_nothing_owed();
}

TEST_F(ConnectionPair, ADownloadStopsAtTheStreamWindowUntilTheProxyConsumes) {
  SessionSettings client;
  client.stream_window = 65535;
  connect({}, client);
  auto& c = request("");
  c.consume_at_once = false;
  auto& s = wait_server_stream(c);
  const std::string body = patterned(1 << 20);
  s.response.bytes = body;
  s.trailers.emplace();
  s.trailers->add("grpc-status", "0");
  s.respond("200", /*has_body=*/true);
  ASSERT_TRUE(run_until([&] { return c.response_body.size() == 65535; }));
  run_for(100ms);
  EXPECT_EQ(c.response_body.size(), 65535u);
  EXPECT_EQ(client_->unconsumed(), 65535u);
  EXPECT_EQ(s.response.sent, 65535u);
  while (!c.response_ended) {
    const size_t before = c.response_body.size();
    c.consume_held();
    ASSERT_TRUE(run_until([&] { return c.response_body.size() > before || c.response_ended; }));
  }
  c.consume_held();
  EXPECT_EQ(c.response_body, body);
  ASSERT_TRUE(run_until([&] { return c.closed_code && s.closed_code; }));
  expect_nothing_owed();
}

TEST_F(ConnectionPair, DeferredBodiesResumeInBothDirections) {
  connect();
  auto& c = request("", /*complete=*/false);
  auto& s = wait_server_stream(c);
  run_for(50ms);
  EXPECT_TRUE(s.request_body.empty());
  EXPECT_FALSE(s.request_ended);
  c.request.bytes = "first";
  client_->resume_request(c.id);
  ASSERT_TRUE(run_until([&] { return s.request_body == "first"; }));
  EXPECT_FALSE(s.request_ended);
  c.request.bytes += "second";
  c.request.complete = true;
  client_->resume_request(c.id);
  ASSERT_TRUE(run_until([&] { return s.request_ended; }));
  EXPECT_EQ(s.request_body, "firstsecond");

  s.response.complete = false;
  s.trailers.emplace();
  s.trailers->add("grpc-status", "0");
  s.respond("200", /*has_body=*/true);
  ASSERT_TRUE(run_until([&] { return !c.response_headers.empty(); }));
  run_for(50ms);
  EXPECT_TRUE(c.response_body.empty());
  s.response.bytes = "answer";
  s.response.complete = true;
  server_->resume_response(s.id);
  ASSERT_TRUE(run_until([&] { return c.closed_code.has_value(); }));
  EXPECT_EQ(c.response_body, "answer");
  EXPECT_EQ(header_value(c.response_trailers, "grpc-status"), "0");
  expect_nothing_owed();
}

TEST_F(ConnectionPair, ATrailersOnlyResponseEndsTheStreamInItsHeaders) {
  connect();
  auto& c = request("x");
  auto& s = wait_server_stream(c);
  ASSERT_TRUE(run_until([&] { return s.request_ended; }));
  s.respond("200", /*has_body=*/false);
  ASSERT_TRUE(run_until([&] { return c.closed_code.has_value(); }));
  EXPECT_TRUE(c.headers_ended_stream);
  EXPECT_EQ(header_value(c.response_headers, "grpc-status"), "5");
  EXPECT_TRUE(c.response_body.empty());
  EXPECT_TRUE(c.response_trailers.empty());
  EXPECT_EQ(*c.closed_code, 0u);
  expect_nothing_owed();
}

TEST_F(ConnectionPair, ResetsArriveWithTheirCodeAndWhetherTheBackendProcessedTheStream) {
  connect();
  auto& cancelled = request("", /*complete=*/false);
  auto& refused = request("", /*complete=*/false);
  auto& by_client = request("", /*complete=*/false);
  auto& s1 = wait_server_stream(cancelled);
  auto& s2 = wait_server_stream(refused);
  auto& s3 = wait_server_stream(by_client);
  s1.response.complete = false;  // headers out, the body still to come: then the reset
  s1.respond("200", /*has_body=*/true);
  server_->reset_stream(s1.id, NGHTTP2_CANCEL);
  server_->reset_stream(s2.id, NGHTTP2_REFUSED_STREAM);
  client_->reset_stream(by_client.id, NGHTTP2_CANCEL);
  ASSERT_TRUE(run_until([&] {
    return cancelled.closed_code && refused.closed_code && by_client.closed_code &&
           s1.closed_code && s2.closed_code && s3.closed_code;
  }));
  EXPECT_EQ(*cancelled.closed_code, static_cast<uint32_t>(NGHTTP2_CANCEL));
  EXPECT_TRUE(cancelled.processed);
  EXPECT_EQ(*refused.closed_code, static_cast<uint32_t>(NGHTTP2_REFUSED_STREAM));
  EXPECT_FALSE(refused.processed) << "a refused stream may be replayed";
  EXPECT_EQ(*s3.closed_code, static_cast<uint32_t>(NGHTTP2_CANCEL));
  EXPECT_TRUE(client_->accepting()) << "stream resets leave the connection usable";
  expect_nothing_owed();
}

TEST_F(ConnectionPair, StreamsAboveAGoawaysLastStreamIdWereNotProcessed) {
  connect();
  auto& kept = request("", /*complete=*/false);
  auto& dropped = request("", /*complete=*/false);
  auto& s1 = wait_server_stream(kept);
  wait_server_stream(dropped);
  nghttp2_submit_goaway(server_->session(), NGHTTP2_FLAG_NONE, kept.id, NGHTTP2_NO_ERROR, nullptr,
                        0);
  server_->request_flush();
  ASSERT_TRUE(run_until([&] { return goaway_ && dropped.closed_code.has_value(); }));
  EXPECT_FALSE(dropped.processed) << "above the last stream id: safe to replay";
  EXPECT_FALSE(client_->accepting());
  EXPECT_FALSE(kept.closed_code) << "at or below the last stream id it carries on";
  kept.request.complete = true;
  client_->resume_request(kept.id);
  ASSERT_TRUE(run_until([&] { return s1.request_ended; }));
  s1.respond("200", /*has_body=*/false);
  ASSERT_TRUE(run_until([&] { return kept.closed_code.has_value(); }));
  EXPECT_EQ(*kept.closed_code, 0u);
  EXPECT_TRUE(kept.processed);
}

TEST_F(ConnectionPair, AStreamOnAConnectionThatNeverConnectedWasNotProcessed) {
  // A port with nothing listening: the acceptor is closed before the connect.
  const auto endpoint = acceptor_.local_endpoint();
  acceptor_.close();
  client_ = ClientConnection::create(io_.get_executor(), {}, *this);
  client_->connect(endpoint, 5s);
  auto& c = request("body");
  ASSERT_TRUE(run_until([&] { return c.closed_code.has_value(); }));
  EXPECT_EQ(*c.closed_code, kConnectionLost);
  EXPECT_FALSE(c.processed);
  ASSERT_TRUE(client_closed_.has_value());
  EXPECT_NE(client_closed_->find("connect failed"), std::string::npos) << *client_closed_;
  EXPECT_FALSE(connected_);
}

}  // namespace
}  // namespace sluice::http2
