// One call of a load run on an HTTP/2 stream: sends the shared request body, consumes the
// response as it arrives (keeping the flow-control windows open), and reports its status,
// backend and latency to the worker when the stream ends.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "http2/grpc/status.h"
#include "http2/stream.h"

namespace sluice::load {

class LoadConnection;

struct CallResult {
  wire::StatusCode status;
  std::chrono::steady_clock::time_point intended;  // when the call was due (open loop) or sent
  std::string_view backend;                        // x-backend-id; valid during the callback
};

class LoadCall final : public http2::ClientStream {
 public:
  class Listener {
   public:
    virtual ~Listener() = default;
    virtual void on_call_done(LoadCall& call, const CallResult& result) = 0;
  };

  LoadCall(Listener& listener, const std::string& body) : listener_(listener), body_(body) {}

  // Readies the object for a new call on `conn`, due at `intended` (objects are reused).
  void reset(LoadConnection& conn, std::chrono::steady_clock::time_point intended);
  void set_stream_id(int32_t id) { stream_id_ = id; }
  LoadConnection* connection() const { return conn_; }
  int32_t stream_id() const { return stream_id_; }

  void on_response_headers(bool end_stream) override;
  void on_response_data(const uint8_t* data, size_t len) override;
  void on_response_trailers() override;
  void on_response_end() override {}
  void on_upstream_closed(uint32_t error_code, bool processed) override;
  http2::BodyRead read_request_body(uint8_t* buf, size_t len) override;

 private:
  // The status a finished stream carries: grpc-status from its trailers (or from a
  // Trailers-Only response), else derived from the HTTP status or the reset code.
  wire::StatusCode final_status(uint32_t error_code) const;

  Listener& listener_;
  const std::string& body_;
  LoadConnection* conn_ = nullptr;
  int32_t stream_id_ = 0;
  size_t sent_ = 0;
  std::chrono::steady_clock::time_point intended_;
  std::string backend_;
  int http_status_ = 0;
  std::optional<wire::StatusCode> grpc_status_;
};

}  // namespace sluice::load
