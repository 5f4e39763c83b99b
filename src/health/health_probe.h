// One endpoint's grpc.health.v1 checks, on the control thread's event loop: one HTTP/2
// connection to the backend (kept between checks), a Watch stream by default so a status
// change arrives at once, or periodic Check calls once the backend answers Watch with
// UNIMPLEMENTED. Every check yields one Result; the caller's thresholds turn those into health.
//
// In Watch mode the status stands between messages: each interval counts it again, so
// unhealthy_threshold means "this long in a row", as with Check. A Watch that ends after a
// while (the backend rotated its connection) is opened again at once.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "core/health.h"
#include "health/health_wire.h"
#include "http2/client_connection.h"

namespace sluice::health {

struct CheckResult {
  enum class Outcome { kPassed, kFailed, kTimeout, kError };
  Outcome outcome;
  std::string detail;  // "SERVING", "NOT_SERVING", "timed out after 1000 ms", "connect failed: ..."
  bool passed() const { return outcome == Outcome::kPassed; }
};
std::string_view outcome_name(CheckResult::Outcome outcome);  // passed, failed, timeout, error

class Probe final : public http2::ClientConnection::Owner, public http2::ClientStream {
 public:
  using Report = std::function<void(const CheckResult&)>;
  // How long until the next check (asked after each result).
  using NextDelay = std::function<std::chrono::milliseconds()>;

  Probe(asio::any_io_executor executor, asio::ip::tcp::endpoint target,
        const core::HealthCheckConfig& config, Report report, NextDelay next_delay);
  ~Probe() override;  // closes the connection; no report after this
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;

  // The first check after `delay`.
  void start(std::chrono::milliseconds delay);
  // Check now unless one is under way (the cluster got busy after a long no-traffic wait).
  void check_soon();
  bool uses_watch() const { return watch_; }

  // http2::ClientConnection::Owner
  void on_connected(http2::ClientConnection& conn) override;
  void on_capacity_changed(http2::ClientConnection&) override {}
  void on_connection_closed(http2::ClientConnection& conn, const std::string& reason) override;

  // http2::ClientStream
  void on_response_headers(bool end_stream) override;
  void on_response_data(const uint8_t* data, size_t len) override;
  void on_response_trailers() override;
  void on_response_end() override;
  void on_upstream_closed(uint32_t error_code, bool processed) override;
  http2::BodyRead read_request_body(uint8_t* buf, size_t len) override;

 private:
  void schedule(std::chrono::milliseconds delay);
  void begin_check();
  void submit();
  // The open stream ended with grpc-status `status` (and message).
  void on_call_status(int status, std::string_view message);
  // One check's result: reported, and the next check scheduled (once per check).
  void decide(CheckResult result);
  // The stream is gone without a result (or after one, in Watch mode): fail or retry.
  void stream_gone(const std::string& why);
  void reset_stream();

  const asio::any_io_executor executor_;
  const asio::ip::tcp::endpoint target_;
  const core::HealthCheckConfig config_;
  const Report report_;
  const NextDelay next_delay_;
  const std::string request_;  // the framed HealthCheckRequest
  std::shared_ptr<http2::ClientConnection> conn_;
  asio::steady_timer next_timer_;
  asio::steady_timer timeout_timer_;
  bool watch_ = true;       // Watch until the backend says UNIMPLEMENTED
  bool checking_ = false;   // a check is under way and has no result yet
  int32_t stream_id_ = -1;  // the open Watch or Check stream
  std::chrono::steady_clock::time_point watch_started_{};
  size_t request_sent_ = 0;  // bytes of request_ handed to nghttp2
  ResponseReader reader_;
  bool have_status_ = false;  // Watch: a status arrived on this stream
  ServingStatus last_ = ServingStatus::kUnknown;
  bool status_seen_ = false;       // the open stream's end was handled (grpc-status or reset)
  bool fallback_pending_ = false;  // Watch said UNIMPLEMENTED: Check once its stream closes
  bool stopping_ = false;
  std::shared_ptr<int> life_ = std::make_shared<int>(0);  // timer waits check it
};

}  // namespace sluice::health
