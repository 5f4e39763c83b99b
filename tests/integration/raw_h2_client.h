// A minimal blocking HTTP/2 client (nghttp2) for tests that must see the wire: which frames a
// response used (Trailers-Only is one HEADERS frame with END_STREAM), what a malformed request
// gets back, and RST_STREAM codes. grpc++ hides all of that.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/expected.h"

namespace sluice::testing {

using RawHeaders = std::vector<std::pair<std::string, std::string>>;

// A blocking TCP connection to "127.0.0.1:PORT"; the fd, or -1.
int raw_connect(const std::string& address);

struct RawResponse {
  RawHeaders headers;   // the first HEADERS block (response headers, or all of Trailers-Only)
  RawHeaders trailers;  // a second HEADERS block, if any
  std::string body;
  int header_frames = 0;
  bool first_headers_end_stream = false;              // true = Trailers-Only
  uint32_t rst_code = 0xffffffff;                     // RST_STREAM error code received, if any
  std::string header(const std::string& name) const;  // from headers, then trailers
};

// Sends one request (pseudo-headers included in `headers`) with `body` on a new connection
// and waits for the stream to close.
Expected<RawResponse, std::string> raw_h2_request(const std::string& address,
                                                  const RawHeaders& headers,
                                                  const std::string& body,
                                                  std::chrono::milliseconds timeout);

// A gRPC request for `path` with the usual headers and one framed message.
Expected<RawResponse, std::string> raw_grpc_request(const std::string& address,
                                                    const std::string& path,
                                                    const std::string& message,
                                                    std::chrono::milliseconds timeout);

struct PingFloodResult {
  int pings_sent = 0;
  int acks = 0;
  bool goaway = false;
  uint32_t goaway_code = 0;
  std::string goaway_debug;
  bool closed = false;  // the server closed the connection
};

// Opens a connection and sends `count` PINGs back to back (no requests), then reads until the
// server closes the connection or `timeout` passes.
PingFloodResult raw_h2_ping_flood(const std::string& address, int count,
                                  std::chrono::milliseconds timeout);

// Connects, sends the client preface and an empty SETTINGS frame, then never answers anything
// (it drains what arrives without acting on it). Returns how long until the server closed the
// connection, or nullopt if it was still open after `timeout`.
std::optional<std::chrono::milliseconds> raw_h2_silent_client(const std::string& address,
                                                              std::chrono::milliseconds timeout);

struct BurstResult {
  int ok = 0;                       // streams answered with grpc-status 0
  std::vector<uint32_t> rst_codes;  // RST_STREAM codes received, one per reset stream
  bool goaway = false;
  uint32_t goaway_code = 0;
  std::string error;  // the connection failed or timed out
};

// Opens a connection and sends `count` gRPC requests for `path` at once, in the first write,
// before reading the server's SETTINGS (so its limits are not yet known, as for any client
// that starts with calls queued); then reads until every stream ended.
BurstResult raw_grpc_burst(const std::string& address, const std::string& path,
                           const std::string& message, int count,
                           std::chrono::milliseconds timeout);

}  // namespace sluice::testing
