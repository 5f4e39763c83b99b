// Scripted HTTP/2 streams for tests that drive our connections directly: a backend-side
// ServerStream and a proxy-side ClientStream that record what arrives and let the test decide
// when received bytes are consumed and when body bytes become available.
#pragma once

#include <algorithm>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "http2/client_connection.h"
#include "http2/server_connection.h"

namespace sluice::http2::testing {

inline std::string header_value(const HeaderBlock& block, std::string_view name) {
  auto v = block.find(name);
  return v ? std::string(*v) : std::string();
}

// A body that may be produced bit by bit: bytes not yet available make the reader defer.
struct Body {
  std::string bytes;
  size_t sent = 0;
  bool complete = true;  // no more bytes will be added

  BodyRead read(uint8_t* buf, size_t len, const std::function<void()>& at_end) {
    const size_t n = std::min(len, bytes.size() - sent);
    std::memcpy(buf, bytes.data() + sent, n);
    sent += n;
    if (sent < bytes.size() || !complete) {
      return n > 0 ? BodyRead{BodyRead::Kind::kData, n} : BodyRead{BodyRead::Kind::kDeferred, 0};
    }
    if (at_end) {
      at_end();
      return {BodyRead::Kind::kEndWithTrailers, n};
    }
    return {BodyRead::Kind::kEnd, n};
  }
};

// The backend end: a request arriving at the ServerConnection.
struct ScriptedServerStream final : ServerStream {
  ServerConnection& conn;
  int32_t id;
  std::string request_body;
  size_t held = 0;  // received and not consumed yet
  bool consume_at_once = true;
  bool request_ended = false;
  std::optional<uint32_t> closed_code;
  bool responded = false;
  Body response;
  std::optional<HeaderBlock> trailers;

  ScriptedServerStream(ServerConnection& c, int32_t stream_id) : conn(c), id(stream_id) {}
  void on_request_headers(bool end_stream) override { request_ended = end_stream; }
  void on_request_data(const uint8_t* data, size_t len) override {
    request_body.append(reinterpret_cast<const char*>(data), len);
    held += len;
    if (consume_at_once) consume_held();
  }
  void consume_held() {
    conn.consume(id, held);
    held = 0;
  }
  void on_request_end() override { request_ended = true; }
  void on_downstream_closed(uint32_t error_code) override { closed_code = error_code; }
  BodyRead read_response_body(uint8_t* buf, size_t len) override {
    std::function<void()> at_end;
    if (trailers) at_end = [this] { conn.submit_trailers(id, *trailers); };
    return response.read(buf, len, at_end);
  }
  bool response_started() const override { return responded; }
  // Response headers; without a body they are Trailers-Only, carrying `grpc_status`.
  void respond(const std::string& status, bool has_body, const std::string& grpc_status = "5") {
    HeaderBlock h;
    h.add(":status", status);
    h.add("content-type", "application/grpc");
    if (!has_body) h.add("grpc-status", grpc_status);
    responded = true;
    conn.submit_response(id, h, has_body);
  }
  // A whole answer: `body`, then trailers with grpc-status 0.
  void answer(const std::string& body) {
    response.bytes = body;
    trailers.emplace();
    trailers->add("grpc-status", "0");
    respond("200", /*has_body=*/true);
  }
};

// The proxy end: its request to the backend, on the ClientConnection.
struct ScriptedClientStream final : ClientStream {
  ClientConnection* conn = nullptr;
  int32_t id = -1;
  Body request;
  HeaderBlock response_headers;
  bool headers_ended_stream = false;
  HeaderBlock response_trailers;
  std::string response_body;
  size_t held = 0;
  bool consume_at_once = true;
  bool response_ended = false;
  std::optional<uint32_t> closed_code;
  bool processed = true;

  void on_response_headers(bool end_stream) override {
    response_headers = incoming_;
    incoming_.clear();
    headers_ended_stream = end_stream;
  }
  void on_response_data(const uint8_t* data, size_t len) override {
    response_body.append(reinterpret_cast<const char*>(data), len);
    held += len;
    if (consume_at_once) consume_held();
  }
  void consume_held() {
    conn->consume(id, held);
    held = 0;
  }
  void on_response_trailers() override {
    response_trailers = incoming_;
    incoming_.clear();
    response_ended = true;
  }
  void on_response_end() override { response_ended = true; }
  void on_upstream_closed(uint32_t error_code, bool was_processed) override {
    closed_code = error_code;
    processed = was_processed;
  }
  BodyRead read_request_body(uint8_t* buf, size_t len) override {
    return request.read(buf, len, nullptr);
  }
};

// The headers of a gRPC request for `path`.
inline HeaderBlock grpc_request_headers(std::string_view path) {
  HeaderBlock h;
  h.add(":method", "POST");
  h.add(":scheme", "http");
  h.add(":path", path);
  h.add(":authority", "backend");
  h.add("content-type", "application/grpc");
  h.add("te", "trailers");
  return h;
}

// `n` bytes of an aperiodic pattern (a reordered or repeated chunk shows in a comparison).
inline std::string patterned(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 4099) % 26);
  return s;
}

}  // namespace sluice::http2::testing
