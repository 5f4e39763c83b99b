#include "load/load_call.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "load/load_connection.h"
#include "load/tally.h"

namespace sluice::load {

void LoadCall::reset(LoadConnection& conn, std::chrono::steady_clock::time_point intended) {
  conn_ = &conn;
  stream_id_ = 0;
  sent_ = 0;
  intended_ = intended;
  backend_.clear();
  http_status_ = 0;
  grpc_status_.reset();
  incoming_.clear();
}

void LoadCall::on_response_headers(bool) {
  if (auto v = incoming_.find(":status")) {
    std::from_chars(v->data(), v->data() + v->size(), http_status_);
  }
  if (auto v = incoming_.find("x-backend-id")) backend_.assign(*v);
  // Trailers-Only: the status is in these headers.
  if (auto v = incoming_.find("grpc-status")) grpc_status_ = wire::parse_grpc_status(*v);
  incoming_.clear();  // trailers, if any, land in a fresh block
}

void LoadCall::on_response_data(const uint8_t*, size_t len) { conn_->consume(stream_id_, len); }

void LoadCall::on_response_trailers() {
  if (auto v = incoming_.find("grpc-status")) grpc_status_ = wire::parse_grpc_status(*v);
  incoming_.clear();
}

wire::StatusCode LoadCall::final_status(uint32_t error_code) const {
  if (grpc_status_) return *grpc_status_;
  if (error_code == http2::kConnectionLost) return wire::StatusCode::kUnavailable;
  if (error_code != 0) return wire::status_from_rst_stream(error_code);
  if (http_status_ != 0 && http_status_ != 200) return wire::status_from_http(http_status_);
  return wire::StatusCode::kUnknown;  // ended without grpc-status
}

void LoadCall::on_upstream_closed(uint32_t error_code, bool) {
  const CallResult result{final_status(error_code), intended_,
                          backend_.empty() ? kNoBackend : std::string_view(backend_)};
  listener_.on_call_done(*this, result);
}

http2::BodyRead LoadCall::read_request_body(uint8_t* buf, size_t len) {
  const size_t n = std::min(len, body_.size() - sent_);
  std::memcpy(buf, body_.data() + sent_, n);
  sent_ += n;
  if (sent_ == body_.size()) return {http2::BodyRead::Kind::kEnd, n};
  return {http2::BodyRead::Kind::kData, n};
}

}  // namespace sluice::load
