// A client that writes HTTP/2 frames by hand, for the attacks a well-behaved library will not
// make: rapid reset (HEADERS + RST_STREAM pairs), CONTINUATION, SETTINGS and empty-DATA floods.
// Header blocks are HPACK-encoded by nghttp2's deflater; everything else is raw bytes.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "integration/raw_h2_client.h"

namespace sluice::testing {

class H2Attacker {
 public:
  // Connects and sends the client preface with a SETTINGS frame (INITIAL_WINDOW_SIZE set when
  // it is not the default: 0 = the proxy may send no response DATA at all).
  explicit H2Attacker(const std::string& address, uint32_t initial_window = 65535);
  ~H2Attacker();
  H2Attacker(const H2Attacker&) = delete;
  H2Attacker& operator=(const H2Attacker&) = delete;

  bool connected() const { return fd_ >= 0; }

  static std::string frame(uint8_t type, uint8_t flags, uint32_t stream_id,
                           const std::string& payload);
  // A HEADERS frame (END_HEADERS unless `more_follow`) with a gRPC request for `path`.
  std::string request_headers(uint32_t stream_id, const std::string& path, bool end_stream,
                              bool more_follow = false);
  // One header field, HPACK-encoded (for CONTINUATION payloads).
  std::string header_field(const std::string& name, const std::string& value);

  // Writes everything; false once the server closed the connection.
  bool send(const std::string& bytes);

  struct Outcome {
    bool goaway = false;
    uint32_t goaway_code = 0;
    std::string goaway_debug;
    bool closed = false;  // the server closed the connection
    int frames = 0;       // frames received
  };
  // Reads (and discards) until the server closes the connection or `timeout` passes,
  // noting the first GOAWAY. Also drains while sending would block, so call it often.
  Outcome read_until_closed(std::chrono::milliseconds timeout);

 private:
  void parse(Outcome& out);

  int fd_ = -1;
  void* deflater_ = nullptr;  // nghttp2_hd_deflater
  std::string inbox_;
  Outcome seen_;
};

}  // namespace sluice::testing
