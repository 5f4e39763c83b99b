// What the two sides of a proxied call see of an HTTP/2 stream. The proxy's call implements
// both interfaces; the connections call them from nghttp2's callbacks.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

#include "http2/header_block.h"

namespace sluice::http2 {

// Not an HTTP/2 error code: the stream ended because its connection was lost.
inline constexpr uint32_t kConnectionLost = 0x10000;

// The result of a body read for the nghttp2 data provider.
struct BodyRead {
  enum class Kind { kData, kDeferred, kEnd, kEndWithTrailers };
  Kind kind;
  size_t length = 0;  // bytes copied (kData, and possibly with kEnd*)
};

// A downstream (server-side) stream: a request arriving at the proxy.
class ServerStream {
 public:
  virtual ~ServerStream() = default;
  // Request headers; the connection fills this block, then calls on_request_headers.
  HeaderBlock& incoming_headers() { return incoming_; }
  // Counts a request header field against the advertised SETTINGS_MAX_HEADER_LIST_SIZE (name +
  // value + 32 per RFC 9113); false once the list is over the limit (the field is dropped).
  bool count_header(size_t name_len, size_t value_len, size_t limit) {
    header_list_size_ += name_len + value_len + 32;
    return header_list_size_ <= limit;
  }
  size_t header_list_size() const { return header_list_size_; }
  virtual void on_request_headers(bool end_stream) = 0;
  virtual void on_request_data(const uint8_t* data, size_t len) = 0;
  virtual void on_request_end() = 0;
  // The stream is gone (finished, reset or connection lost); the last call the connection
  // makes. `error_code` is the HTTP/2 error code (0 when it finished normally).
  virtual void on_downstream_closed(uint32_t error_code) = 0;
  // Copies the next response body bytes; on kEndWithTrailers the stream has submitted the
  // trailers itself.
  virtual BodyRead read_response_body(uint8_t* buf, size_t len) = 0;
  // Response headers went out (a reset after that is an ordinary cancel, not rapid reset).
  virtual bool response_started() const = 0;

 protected:
  HeaderBlock incoming_;
  size_t header_list_size_ = 0;
};

// An upstream (client-side) stream: the proxy's request to a backend.
class ClientStream {
 public:
  virtual ~ClientStream() = default;
  HeaderBlock& incoming_response_headers() { return incoming_; }
  virtual void on_response_headers(bool end_stream) = 0;
  virtual void on_response_data(const uint8_t* data, size_t len) = 0;
  virtual void on_response_trailers() = 0;
  // END_STREAM on a DATA frame (no trailers: not gRPC, but the call must still end).
  virtual void on_response_end() = 0;
  // The stream is gone. `error_code` is the HTTP/2 error code. When the
  // backend never processed it (REFUSED_STREAM, above a GOAWAY's last stream id, or the
  // connection failed before it was written): `processed` is false and a retry elsewhere is safe.
  virtual void on_upstream_closed(uint32_t error_code, bool processed) = 0;
  virtual BodyRead read_request_body(uint8_t* buf, size_t len) = 0;

 protected:
  HeaderBlock incoming_;
};

}  // namespace sluice::http2
