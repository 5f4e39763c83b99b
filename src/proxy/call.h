// One proxied gRPC call: a downstream stream and, once picked, an upstream stream. It forwards
// headers, messages and trailers both ways with coupled flow control: bytes taken from one side
// re-open that side's window only once the other side's session took them.
// A call lives until its downstream stream closes; then it deletes itself.
#pragma once

#include <array>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "core/picker.h"
#include "core/service_config.h"
#include "http2/byte_queue.h"
#include "http2/client_connection.h"
#include "http2/grpc/message_framing.h"
#include "http2/grpc/status.h"
#include "http2/server_connection.h"
#include "proxy/router.h"
#include "proxy/stats.h"
#include "proxy/upstream_pool.h"

namespace sluice::proxy {

class Worker;
struct ClusterState;

class Call final : public http2::ServerStream, public http2::ClientStream, public PoolCall {
 public:
  Call(Worker& worker, http2::ServerConnection& down, int32_t stream_id);
  ~Call() override;

  // Downstream events.
  void on_request_headers(bool end_stream) override;
  void on_request_data(const uint8_t* data, size_t len) override;
  void on_request_end() override;
  void on_downstream_closed(uint32_t error_code) override;
  http2::BodyRead read_response_body(uint8_t* buf, size_t len) override;
  bool response_started() const override { return response_started_; }

  // Upstream events.
  void on_response_headers(bool end_stream) override;
  void on_response_data(const uint8_t* data, size_t len) override;
  void on_response_trailers() override;
  void on_response_end() override;
  void on_upstream_closed(uint32_t error_code, bool processed) override;
  http2::BodyRead read_request_body(uint8_t* buf, size_t len) override;

  // Pool events.
  void attach(const std::shared_ptr<http2::ClientConnection>& conn) override;
  void on_pool_failure(const std::string& reason) override;

 private:
  // Sets the call's deadline from grpc-timeout, the route or the method config; false if the
  // call was failed (a malformed grpc-timeout).
  bool set_deadline(const Router::Target& target, const core::MethodConfig* method);
  void on_deadline();
  // Picks an endpoint not tried yet and hands the call to its pool; fails the call when none
  // can take it.
  void route_upstream();
  // Ends the attempt's tracker. Its round trip counts in full when the backend answered, as a
  // lower bound when the attempt was cut short, not at all when the backend never saw it.
  enum class Attempt { kAnswered, kCutShort, kNeverSeen };
  void finish_attempt(Attempt how);
  // Answers the call from the proxy: Trailers-Only when no response headers went downstream
  // yet, else a stream reset.
  void fail(wire::StatusCode code, const std::string& message, int http_status = 200);
  EndpointStats& endpoint_stats();
  // Outlier detection: a failure status extends the endpoint's run of failures on this worker,
  // anything else ends it; a long enough run is reported to the control thread.
  void count_outcome();
  void record_status(const http2::HeaderBlock& block);
  void detach_upstream(uint32_t reset_code);
  // Flow control, exactly once: request bytes that left request_body_ are consumed downstream
  // (replayed bytes were consumed on their first pass); response bytes that will never be read
  // are dropped and consumed upstream.
  void settle_request();
  void drop_response_body();
  // Bytes sent upstream are kept (up to a limit) until the response starts, so a stream the
  // backend never processed can be replayed on another endpoint.
  void keep_for_replay(const uint8_t* data, size_t n);
  // What was sent goes in front of what was not, for the next attempt: consumed already, so
  // the consumption bookkeeping (the unconsumed tail) is unchanged.
  void rewind_request();
  // gRFC A6: whether the attempt that ended with `status` (before the call committed) is
  // retried, within the policy's attempts, the server's pushback, the deadline and the
  // cluster's retry budget. kRetry sets retry_delay_.
  enum class RetryVerdict { kNo, kRetry, kPastDeadline };
  RetryVerdict decide_retry(wire::StatusCode status,
                            std::optional<std::string_view> pushback_header);
  // Sends the next attempt after retry_delay_ (the previous one is over).
  void retry();
  // Circuit breakers: false (and the call failed, counted) when the cluster is at `kind`'s
  // limit; else the call counts toward it until it ends (release_breakers).
  bool enter_breaker(BreakerKind kind);
  // The cluster's count and limit for `kind`, and whether the count is at the limit.
  Gauge& breaker_count(BreakerKind kind);
  uint64_t breaker_limit(BreakerKind kind) const;
  bool breaker_full(BreakerKind kind);
  void leave_pending();
  void release_breakers();
  std::weak_ptr<Call*> weak_self();

  Worker& worker_;
  http2::ServerConnection& down_;
  const int32_t down_id_;
  std::chrono::steady_clock::time_point start_;
  // The call's deadline, if it has one; the timer holds only a weak reference to the call.
  std::optional<std::chrono::steady_clock::time_point> deadline_;
  std::unique_ptr<asio::steady_timer> deadline_timer_;
  std::shared_ptr<Call*> alive_;

  // Routing and balancing.
  std::shared_ptr<ClusterState> cluster_;  // the state the call started on
  size_t endpoint_ = SIZE_MAX;
  UpstreamPool* queued_in_ = nullptr;
  core::TriedSet tried_;
  size_t attempts_ = 0;               // upstream streams opened for this call
  std::optional<uint64_t> hash_key_;  // ring_hash: the hash of the configured header's value
  core::CallTracker tracker_;         // the attempt in flight, feeding the picker's load state
  std::string last_error_;

  // Retries (gRFC A6 retryPolicy of the call's method config, if any).
  const core::RetryPolicy* retry_policy_ = nullptr;
  int retries_ = 0;               // attempts sent by the policy after the first
  bool discard_attempt_ = false;  // a retryable Trailers-Only: retry once the stream closed
  std::chrono::nanoseconds retry_delay_{0};
  std::unique_ptr<asio::steady_timer> retry_timer_;
  std::array<bool, 3> in_breaker_{};  // counted toward each BreakerKind's limit

  // Upstream stream, while attached.
  std::shared_ptr<http2::ClientConnection> up_;
  int32_t up_id_ = -1;
  // The connection response_body_ came from: it gets its window back as the body goes
  // downstream, also after the upstream stream closed (unary responses close at once).
  std::shared_ptr<http2::ClientConnection> response_from_;
  bool upstream_deferred_ = false;

  // Request direction: downstream -> upstream.
  http2::HeaderBlock request_headers_;
  http2::ByteQueue request_body_;
  std::string replay_;
  // Request bytes received downstream and not yet consumed: always the tail of request_body_
  // (a replay puts already consumed bytes in front).
  size_t request_unconsumed_ = 0;
  bool replayable_ = true;
  bool request_ended_ = false;
  bool upstream_done_ = false;  // the backend ended its stream: request bytes have nowhere to go

  // Response direction: upstream -> downstream.
  http2::ByteQueue response_body_;
  // The response bytes that went downstream, by gRPC message: a deadline between messages
  // can still end the call with trailers.
  wire::MessageFraming response_framing_;
  http2::HeaderBlock trailers_;
  bool response_started_ = false;   // response headers went downstream
  bool response_trailers_ = false;  // trailers arrived, to follow the body
  bool response_eof_ = false;       // upstream ended without trailers
  bool response_done_ = false;      // the downstream response is complete or was reset
  bool attached_ = false;           // reached an endpoint at least once
  bool deadline_trailers_ = false;  // the deadline's trailers wait for the client's window

  wire::StatusCode status_ = wire::StatusCode::kUnknown;
};

}  // namespace sluice::proxy
