#include "proxy/call.h"

#include <spdlog/spdlog.h>

#include "core/hash.h"
#include "core/retry.h"
#include "http2/grpc/path.h"
#include "http2/grpc/retry_pushback.h"
#include "http2/grpc/timeout.h"
#include "proxy/worker.h"

namespace sluice::proxy {
namespace {

using wire::StatusCode;

// Request bytes kept for a transparent replay on another endpoint (gRPC's default per-call
// retry buffer is 256 KiB; unary calls are usually far smaller).
constexpr size_t kReplayLimit = 64 * 1024;

// Transparent replays per call (streams no backend processed), besides the retry policy's
// attempts (gRFC A6 caps maxAttempts at 5 too).
constexpr size_t kMaxAttempts = 5;

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

core::Nanos now_nanos() { return std::chrono::steady_clock::now().time_since_epoch(); }

}  // namespace

Call::Call(Worker& worker, http2::ServerConnection& down, int32_t stream_id)
    : worker_(worker), down_(down), down_id_(stream_id), start_(std::chrono::steady_clock::now()) {
  add(worker_.stats().calls_in_flight, 1);
}

Call::~Call() { add(worker_.stats().calls_in_flight, -1); }

void Call::on_request_headers(bool end_stream) {
  request_headers_ = std::move(incoming_headers());
  request_ended_ = end_stream;
  if (worker_.over_buffer_budget()) {
    // Out of buffer: refuse before anything reached a backend, so the client may retry
    // elsewhere; what it still sends for this stream is dropped on arrival.
    status_ = StatusCode::kUnavailable;
    response_done_ = true;
    bump(worker_.stats().streams_refused_buffer_limit);
    down_.reset_stream(down_id_, wire::h2_error::kRefusedStream);
    return;
  }
  if (header_list_size() > down_.max_header_list_size()) {
    fail(StatusCode::kResourceExhausted,
         "request header list of " + std::to_string(header_list_size()) +
             " bytes exceeds the limit of " + std::to_string(down_.max_header_list_size()),
         431);
    return;
  }
  const auto method = request_headers_.find(":method");
  if (method != "POST") {
    fail(StatusCode::kInternal,
         "gRPC requires POST, got " + std::string(method.value_or("no :method")), 405);
    return;
  }
  const auto content_type = request_headers_.find("content-type").value_or("");
  if (!starts_with(content_type, "application/grpc")) {
    fail(StatusCode::kInternal,
         "content-type \"" + std::string(content_type) + "\" is not application/grpc", 415);
    return;
  }
  const auto path = request_headers_.find(":path").value_or("");
  auto parsed = wire::parse_method_path(path);
  if (!parsed) {
    fail(StatusCode::kUnimplemented, "malformed :path \"" + std::string(path) + "\"");
    return;
  }
  const Snapshot& snap = worker_.snapshot();
  const auto* target = snap.router.route(parsed->service, parsed->method,
                                         request_headers_.find(":authority").value_or(""));
  if (target == nullptr) {
    fail(StatusCode::kUnimplemented, "no route for " + std::string(path));
    return;
  }
  const auto& cluster = worker_.cluster(target->cluster);
  // The route's service config replaces the cluster's.
  const core::MethodConfigIndex* methods =
      target->methods ? target->methods.get() : cluster->methods.get();
  const core::MethodConfig* method_config =
      methods ? methods->find(parsed->service, parsed->method) : nullptr;
  if (!set_deadline(*target, method_config)) return;
  cluster_ = cluster;
  if (!enter_breaker(BreakerKind::kRequests)) return;
  if (method_config && method_config->retry) retry_policy_ = &*method_config->retry;
  cluster_->budget->record_call(now_nanos());
  const core::PolicyConfig& policy = cluster_->snapshot->config.policy;
  if (!policy.hash_header.empty()) {
    if (auto value = request_headers_.find(policy.hash_header))
      hash_key_ = core::stable_hash(*value);
  }
  route_upstream();
}

bool Call::set_deadline(const Router::Target& target, const core::MethodConfig* method) {
  std::optional<std::chrono::nanoseconds> timeout;
  if (auto header = request_headers_.find("grpc-timeout")) {
    auto parsed = wire::parse_grpc_timeout(*header);
    if (!parsed) {
      fail(StatusCode::kInternal,
           "invalid grpc-timeout \"" + std::string(*header) + "\": " + parsed.error());
      return false;
    }
    timeout = *parsed;
  } else if (target.timeout.count() > 0) {
    timeout = target.timeout;
  } else if (method && method->timeout) {
    timeout = *method->timeout;
  }
  if (target.max_timeout.count() > 0 && timeout && *timeout > target.max_timeout) {
    timeout = target.max_timeout;
  }
  if (!timeout) return true;  // no deadline: long-lived streams are never cut
  // Saturating: grpc-timeout can say 99999999 hours.
  const auto max_left = std::chrono::steady_clock::time_point::max() - start_;
  deadline_ = start_ + std::min<std::chrono::nanoseconds>(*timeout, max_left);
  deadline_timer_ = std::make_unique<asio::steady_timer>(worker_.executor(), *deadline_);
  deadline_timer_->async_wait([alive = weak_self()](asio::error_code ec) {
    auto call = alive.lock();
    if (ec || !call) return;  // the call finished first
    (*call)->on_deadline();
  });
  return true;
}

void Call::on_deadline() {
  if (response_done_) return;
  const auto spent = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start_);
  detach_upstream(wire::h2_error::kCancel);
  if (response_started_) {
    status_ = StatusCode::kDeadlineExceeded;
    if (response_framing_.at_boundary() && !deadline_trailers_) {
      // Between messages: what is buffered is dropped, and trailers end the call properly.
      // They go out with the next body read, which needs the client's window open: if it
      // stays shut for another second, the stream is reset after all.
      drop_response_body();
      trailers_.clear();
      trailers_.add("grpc-status", std::to_string(static_cast<int>(StatusCode::kDeadlineExceeded)));
      trailers_.add("grpc-message",
                    wire::percent_encode_message("deadline exceeded after " +
                                                 std::to_string(spent.count()) + " ms"));
      response_trailers_ = true;
      deadline_trailers_ = true;
      deadline_timer_->expires_after(std::chrono::seconds(1));
      deadline_timer_->async_wait([alive = weak_self()](asio::error_code ec) {
        auto call = alive.lock();
        if (!ec && call) (*call)->on_deadline();
      });
      down_.resume_response(down_id_);
      return;
    }
    // Mid-message (or the trailers never got out): only a reset can end it.
    response_done_ = true;
    drop_response_body();
    down_.reset_stream(down_id_, wire::h2_error::kCancel);
    return;
  }
  fail(StatusCode::kDeadlineExceeded,
       "deadline exceeded after " + std::to_string(spent.count()) + " ms");
}

void Call::route_upstream() {
  const auto& name = cluster_->snapshot->config.name;
  // Endpoints that cannot take the call now (connect backoff, queue full) are skipped, not
  // counted as tried: the call reached none of them. At most one skip per endpoint, so the
  // loop ends even when the picker offers one twice. The picker avoids skipped endpoints too,
  // so pick_first and ring_hash move on past them.
  // Once every endpoint was tried, a replay may go back to one: the call is only routed again
  // when no backend processed it (refused, connection lost first), so that is safe, and a
  // backend rotating its connections refuses a stream once, not forever. Attempts are capped.
  const size_t endpoints = cluster_->pools.size();
  size_t skipped = 0;
  core::TriedSet skipped_now;
  while (true) {
    core::TriedSet avoid = tried_;
    for (size_t i = 0; i < skipped_now.size(); ++i) avoid.add(skipped_now[i]);
    const core::TriedSet seen = cluster_->for_picker(avoid);
    auto picked = cluster_->picker->pick(core::PickContext{seen, now_nanos(), hash_key_});
    if (auto* f = std::get_if<core::PickFail>(&picked)) {
      fail(StatusCode::kUnavailable, "cluster " + name + ": " + f->reason);
      return;
    }
    size_t index = cluster_->endpoint_of(std::get<core::PickComplete>(picked).index);
    const bool again = tried_.contains(index);
    if (skipped_now.contains(index) || attempts_ >= kMaxAttempts + retries_) {
      fail(StatusCode::kUnavailable,
           "cluster " + name + ": no endpoint reachable (last error: " + last_error_ + ")");
      return;
    }
    const size_t previous = endpoint_;  // a skip must not move the call's stats elsewhere
    endpoint_ = index;
    if (!again) tried_.add(index);  // before assign: attach() may route again at once
    UpstreamPool& pool = *cluster_->pools[index];
    queued_in_ = &pool;  // until attach() says otherwise
    auto assigned = pool.assign(this);
    if (assigned) {
      // Queued for a stream slot (not attached at once): the pending breaker counts it (and
      // fails the call when the cluster is at its limit).
      if (queued_in_ != nullptr && !in_breaker_[static_cast<size_t>(BreakerKind::kPending)]) {
        enter_breaker(BreakerKind::kPending);
      }
      return;
    }
    if (!again) tried_.remove(index);
    skipped_now.add(index);
    endpoint_ = previous;
    queued_in_ = nullptr;
    last_error_ = assigned.error();
    if (++skipped >= endpoints) {
      fail(StatusCode::kUnavailable,
           "cluster " + name + ": no endpoint reachable (last error: " + last_error_ + ")");
      return;
    }
  }
}

void Call::attach(const std::shared_ptr<http2::ClientConnection>& conn) {
  queued_in_ = nullptr;
  leave_pending();
  up_ = conn;
  upstream_deferred_ = false;
  EndpointStats& es = endpoint_stats();
  if (deadline_) {
    // Forward what is left of the deadline, never more.
    auto left = *deadline_ - std::chrono::steady_clock::now();
    request_headers_.set(
        "grpc-timeout", wire::format_grpc_timeout(
                            std::max<std::chrono::nanoseconds>(left, std::chrono::nanoseconds(1))));
  }
  // gRPC requests always carry a body (possibly empty, closed by END_STREAM on DATA).
  auto id = conn->submit_request(request_headers_, /*has_body=*/true, this);
  if (!id) {
    up_.reset();
    last_error_ = es.address + ": " + id.error();
    route_upstream();
    return;
  }
  up_id_ = *id;
  response_from_ = conn;
  add(es.in_flight, 1);
  attached_ = true;
  ++attempts_;
  tracker_ = core::CallTracker(cluster_->loads[endpoint_].get(), now_nanos(),
                               cluster_->snapshot->config.policy.decay);
}

void Call::finish_attempt(Attempt how) {
  switch (how) {
    case Attempt::kAnswered:
      tracker_.finish(now_nanos());
      break;
    case Attempt::kCutShort:
      tracker_.finish_unanswered(now_nanos());
      break;
    case Attempt::kNeverSeen:
      tracker_ = core::CallTracker();
      break;
  }
}

EndpointStats& Call::endpoint_stats() { return *cluster_->snapshot->stats->endpoints[endpoint_]; }

void Call::on_pool_failure(const std::string& reason) {
  queued_in_ = nullptr;
  leave_pending();
  last_error_ = reason;
  route_upstream();
}

void Call::on_request_data(const uint8_t* data, size_t len) {
  if ((response_done_ && !up_) || upstream_done_) {
    down_.consume(down_id_, len);  // nobody will read it: drop what the client still sends
    return;
  }
  request_body_.append(data, len);
  request_unconsumed_ += len;
  if (up_ && upstream_deferred_) {
    upstream_deferred_ = false;
    up_->resume_request(up_id_);
  }
}

void Call::on_request_end() {
  request_ended_ = true;
  if (up_ && upstream_deferred_) {
    upstream_deferred_ = false;
    up_->resume_request(up_id_);
  }
}

http2::BodyRead Call::read_request_body(uint8_t* buf, size_t len) {
  size_t n = request_body_.read(buf, len);
  if (n > 0) {
    keep_for_replay(buf, n);
    settle_request();
  }
  if (request_body_.empty() && request_ended_) return {http2::BodyRead::Kind::kEnd, n};
  if (n > 0) return {http2::BodyRead::Kind::kData, n};
  upstream_deferred_ = true;
  return {http2::BodyRead::Kind::kDeferred, 0};
}

void Call::settle_request() {
  const size_t still_queued = std::min(request_unconsumed_, request_body_.size());
  if (request_unconsumed_ == still_queued) return;
  down_.consume(down_id_, request_unconsumed_ - still_queued);
  request_unconsumed_ = still_queued;
}

void Call::drop_response_body() {
  if (response_from_ && !response_body_.empty()) {
    response_from_->consume(up_id_, response_body_.size());
  }
  response_body_.release();
}

void Call::keep_for_replay(const uint8_t* data, size_t n) {
  if (!replayable_) return;
  if (replay_.size() + n > kReplayLimit) {
    replayable_ = false;
    std::string().swap(replay_);
    return;
  }
  replay_.append(reinterpret_cast<const char*>(data), n);
}

void Call::rewind_request() {
  http2::ByteQueue again;
  again.append(reinterpret_cast<const uint8_t*>(replay_.data()), replay_.size());
  std::string rest(request_body_.size(), '\0');
  request_body_.read(reinterpret_cast<uint8_t*>(rest.data()), rest.size());
  again.append(reinterpret_cast<const uint8_t*>(rest.data()), rest.size());
  request_body_ = std::move(again);
  replay_.clear();
  response_from_.reset();
}

Call::RetryVerdict Call::decide_retry(StatusCode status,
                                      std::optional<std::string_view> pushback_header) {
  if (retry_policy_ == nullptr || !replayable_ || response_started_ || response_done_) {
    return RetryVerdict::kNo;  // no policy, or committed (answered, or the body outgrew us)
  }
  if (!retry_policy_->retryable_status_codes.contains(static_cast<int>(status))) {
    return RetryVerdict::kNo;
  }
  core::RetryThrottle* throttle = cluster_->throttle.get();
  if (throttle) throttle->record_failure();
  if (retries_ + 1 >= retry_policy_->max_attempts) return RetryVerdict::kNo;
  if (throttle && !throttle->allows_retry()) return RetryVerdict::kNo;  // retryThrottling
  const auto pushback = wire::parse_retry_pushback(pushback_header);
  if (pushback && !pushback->retry) return RetryVerdict::kNo;  // the server said stop
  const auto delay = pushback ? std::chrono::nanoseconds(pushback->delay)
                              : core::retry_backoff(*retry_policy_, retries_ + 1, worker_.random());
  if (deadline_ && std::chrono::steady_clock::now() + delay >= *deadline_) {
    return RetryVerdict::kPastDeadline;
  }
  ClusterStats& stats = *cluster_->snapshot->stats;
  const auto retrying = static_cast<size_t>(BreakerKind::kRetries);
  if (!in_breaker_[retrying] && breaker_full(BreakerKind::kRetries)) {
    bump(stats.breaker_overflows[retrying]);
    return RetryVerdict::kNo;
  }
  if (!cluster_->budget->try_spend(now_nanos())) {
    bump(stats.retry_budget_exhausted);
    return RetryVerdict::kNo;
  }
  if (!in_breaker_[retrying]) {
    add(breaker_count(BreakerKind::kRetries), 1);
    in_breaker_[retrying] = true;
  }
  bump(stats.retries[static_cast<size_t>(status)]);
  ++retries_;
  retry_delay_ = delay;
  return RetryVerdict::kRetry;
}

void Call::retry() {
  rewind_request();
  request_headers_.set("grpc-previous-rpc-attempts", std::to_string(retries_));
  if (retry_delay_.count() <= 0) {
    route_upstream();
    return;
  }
  if (!retry_timer_) retry_timer_ = std::make_unique<asio::steady_timer>(worker_.executor());
  retry_timer_->expires_after(retry_delay_);
  retry_timer_->async_wait([alive = weak_self()](asio::error_code ec) {
    auto call = alive.lock();
    if (ec || !call || (*call)->response_done_) return;  // cancelled, or ended meanwhile
    (*call)->route_upstream();
  });
}

Gauge& Call::breaker_count(BreakerKind kind) {
  ClusterStats& stats = *cluster_->snapshot->stats;
  return kind == BreakerKind::kRequests  ? stats.requests_in_flight
         : kind == BreakerKind::kPending ? stats.pending
                                         : stats.retrying;
}

uint64_t Call::breaker_limit(BreakerKind kind) const {
  const auto& limits = cluster_->snapshot->config.circuit_breakers;
  return kind == BreakerKind::kRequests  ? limits.max_requests
         : kind == BreakerKind::kPending ? limits.max_pending
                                         : limits.max_retries;
}

bool Call::breaker_full(BreakerKind kind) {
  return read(breaker_count(kind)) >= static_cast<int64_t>(breaker_limit(kind));
}

bool Call::enter_breaker(BreakerKind kind) {
  const auto k = static_cast<size_t>(kind);
  if (breaker_full(kind)) {
    ClusterStats& stats = *cluster_->snapshot->stats;
    bump(stats.breaker_overflows[k]);
    if (queued_in_ != nullptr) {
      queued_in_->cancel(this);
      queued_in_ = nullptr;
    }
    fail(StatusCode::kUnavailable, "cluster " + stats.name + ": circuit breaker max_" +
                                       kBreakerKindNames[k] + " (" +
                                       std::to_string(breaker_limit(kind)) + ") reached");
    return false;
  }
  add(breaker_count(kind), 1);
  in_breaker_[k] = true;
  return true;
}

void Call::leave_pending() {
  const auto k = static_cast<size_t>(BreakerKind::kPending);
  if (!in_breaker_[k]) return;
  add(breaker_count(BreakerKind::kPending), -1);
  in_breaker_[k] = false;
}

void Call::release_breakers() {
  if (cluster_ == nullptr) return;
  for (auto kind : {BreakerKind::kRequests, BreakerKind::kPending, BreakerKind::kRetries}) {
    auto& counted = in_breaker_[static_cast<size_t>(kind)];
    if (counted) add(breaker_count(kind), -1);
    counted = false;
  }
}

std::weak_ptr<Call*> Call::weak_self() {
  if (!alive_) alive_ = std::make_shared<Call*>(this);
  return alive_;
}

void Call::on_response_headers(bool end_stream) {
  http2::HeaderBlock& headers = incoming_response_headers();
  if (end_stream && !response_done_) {
    // Trailers-Only does not commit the call (gRFC A6): a retryable status is tried again
    // once this stream is closed, and never forwarded first.
    const auto status = wire::parse_grpc_status(headers.find("grpc-status").value_or(""))
                            .value_or(StatusCode::kUnknown);
    const RetryVerdict verdict = decide_retry(status, headers.find("grpc-retry-pushback-ms"));
    if (verdict == RetryVerdict::kRetry) {
      tracker_.on_response_headers(now_nanos());
      headers.clear();
      discard_attempt_ = true;
      // The backend is done with the attempt; stop sending it the rest of the request.
      if (!(request_ended_ && request_body_.empty()))
        up_->reset_stream(up_id_, wire::h2_error::kCancel);
      return;
    }
    if (verdict == RetryVerdict::kPastDeadline) {
      headers.clear();
      if (!(request_ended_ && request_body_.empty()))
        up_->reset_stream(up_id_, wire::h2_error::kCancel);
      fail(StatusCode::kDeadlineExceeded, "deadline exceeded before the next attempt");
      return;
    }
  }
  replayable_ = false;  // committed: the backend answered
  std::string().swap(replay_);
  tracker_.on_response_headers(now_nanos());
  if (response_done_) return;
  response_started_ = true;
  if (end_stream) {  // Trailers-Only stays Trailers-Only
    record_status(headers);
    response_done_ = true;
    down_.submit_response(down_id_, headers, /*has_body=*/false);
  } else {
    down_.submit_response(down_id_, headers, /*has_body=*/true);
  }
  headers.clear();
}

void Call::on_response_data(const uint8_t* data, size_t len) {
  if (response_done_) {
    up_->consume(up_id_, len);  // the downstream response is over: nobody reads these
    return;
  }
  response_body_.append(data, len);
  down_.resume_response(down_id_);
}

void Call::on_response_trailers() {
  trailers_ = std::move(incoming_response_headers());
  record_status(trailers_);
  response_trailers_ = true;
  down_.resume_response(down_id_);
}

void Call::on_response_end() {
  response_eof_ = true;
  down_.resume_response(down_id_);
}

http2::BodyRead Call::read_response_body(uint8_t* buf, size_t len) {
  size_t n = response_body_.read(buf, len);
  if (n > 0) {
    response_framing_.advance(buf, n);
    if (response_from_) response_from_->consume(up_id_, n);
  }
  if (response_body_.empty()) {
    if (response_trailers_) {
      response_done_ = true;
      if (down_.submit_trailers(down_id_, trailers_) != 0) {
        return {http2::BodyRead::Kind::kEnd, n};  // no trailers: the client sees no status
      }
      return {http2::BodyRead::Kind::kEndWithTrailers, n};
    }
    if (response_eof_) {
      response_done_ = true;
      return {http2::BodyRead::Kind::kEnd, n};
    }
    if (n == 0) return {http2::BodyRead::Kind::kDeferred, 0};
  }
  return {http2::BodyRead::Kind::kData, n};
}

void Call::record_status(const http2::HeaderBlock& block) {
  if (auto s = block.find("grpc-status")) {
    status_ = wire::parse_grpc_status(*s).value_or(StatusCode::kUnknown);
  } else if (auto h = block.find(":status")) {
    status_ = wire::status_from_http(std::atoi(std::string(*h).c_str()));
  } else {
    status_ = StatusCode::kUnknown;
  }
}

void Call::on_upstream_closed(uint32_t error_code, bool processed) {
  up_.reset();
  EndpointStats& es = endpoint_stats();
  add(es.in_flight, -1);
  finish_attempt(error_code == 0 ? Attempt::kAnswered
                 : processed     ? Attempt::kCutShort
                                 : Attempt::kNeverSeen);
  if (discard_attempt_) {
    discard_attempt_ = false;
    retry();
    return;
  }
  if (error_code == 0 && (response_trailers_ || response_eof_ || response_done_)) {
    // The backend is done; what the client still sends (a stream it has not closed yet)
    // must not hold the downstream window.
    upstream_done_ = true;
    request_body_.release();
    settle_request();
    return;
  }
  if (error_code == 0) error_code = http2::kConnectionLost;  // closed without an end: treat as lost
  if (!processed && !response_started_ && replayable_ && !response_done_) {
    // The backend never saw it: replay on another endpoint, transparently.
    rewind_request();
    const bool lost = error_code == http2::kConnectionLost;
    bump(lost ? es.replays_connection_lost : es.replays_refused);
    last_error_ = es.address + (lost ? ": connection lost" : ": stream refused");
    route_upstream();
    return;
  }
  if (response_done_) return;
  if (!response_started_) {
    // A processed attempt that ended before any answer (a reset, a lost connection): the
    // retry policy may try again elsewhere.
    const StatusCode status = error_code == http2::kConnectionLost
                                  ? StatusCode::kUnavailable
                                  : wire::status_from_rst_stream(error_code);
    const RetryVerdict verdict = decide_retry(status, std::nullopt);
    if (verdict == RetryVerdict::kRetry) {
      last_error_ =
          es.address + (error_code == http2::kConnectionLost
                            ? ": connection lost"
                            : ": reset (HTTP/2 error " + std::to_string(error_code) + ")");
      retry();
      return;
    }
    if (verdict == RetryVerdict::kPastDeadline) {
      fail(StatusCode::kDeadlineExceeded, "deadline exceeded before the next attempt");
      return;
    }
    if (error_code == http2::kConnectionLost) {
      fail(StatusCode::kUnavailable, "upstream " + es.address + ": connection lost");
    } else {
      fail(wire::status_from_rst_stream(error_code), "upstream " + es.address +
                                                         " reset the stream (HTTP/2 error " +
                                                         std::to_string(error_code) + ")");
    }
    return;
  }
  // Headers already went downstream: the stream can only be reset, with a code that is true
  // of this hop (wire::downstream_reset_code).
  status_ = error_code == http2::kConnectionLost ? StatusCode::kUnavailable
                                                 : wire::status_from_rst_stream(error_code);
  response_done_ = true;
  drop_response_body();
  down_.reset_stream(down_id_, error_code == http2::kConnectionLost
                                   ? wire::h2_error::kInternalError
                                   : wire::downstream_reset_code(error_code));
}

void Call::fail(StatusCode code, const std::string& message, int http_status) {
  status_ = code;
  if (response_done_) return;
  response_done_ = true;
  if (response_started_) {
    drop_response_body();
    down_.reset_stream(down_id_, wire::h2_error::kInternalError);
    return;
  }
  response_started_ = true;
  http2::HeaderBlock h;
  h.add(":status", std::to_string(http_status));
  h.add("content-type", "application/grpc");
  h.add("grpc-status", std::to_string(static_cast<int>(code)));
  h.add("grpc-message", wire::percent_encode_message(message));
  down_.submit_response(down_id_, h, /*has_body=*/false);
  // What the client sent is no longer needed; what it still sends is dropped on arrival.
  request_body_.release();
  settle_request();
}

void Call::detach_upstream(uint32_t reset_code) {
  if (queued_in_) {
    queued_in_->cancel(this);
    queued_in_ = nullptr;
    leave_pending();
  }
  if (!up_) return;
  if (reset_code != 0) up_->reset_stream(up_id_, reset_code);
  up_->detach(up_id_);
  up_.reset();
  add(endpoint_stats().in_flight, -1);
  finish_attempt(Attempt::kCutShort);
}

void Call::on_downstream_closed(uint32_t error_code) {
  // The client went away (or the call ended): cancel what is still open upstream.
  detach_upstream(wire::h2_error::kCancel);
  if (!response_done_) status_ = StatusCode::kCancelled;
  request_body_.release();
  settle_request();
  drop_response_body();
  if (cluster_ == nullptr) {
    bump(worker_.stats().calls_unrouted[static_cast<size_t>(status_)]);
  } else if (!attached_) {
    bump(cluster_->snapshot->stats->calls_without_endpoint[static_cast<size_t>(status_)]);
  } else {
    bump(endpoint_stats().calls[static_cast<size_t>(status_)]);
    bump(cluster_->snapshot->stats->attempts_sum, attempts_);
    bump(cluster_->snapshot->stats->attempted_calls);
    if (cluster_->throttle && status_ == StatusCode::kOk) cluster_->throttle->record_success();
    count_outcome();
  }
  release_breakers();
  delete this;
}

void Call::count_outcome() {
  const auto& outlier = cluster_->snapshot->config.outlier_detection;
  if (!outlier || outlier->consecutive_failures == 0) return;
  core::EndpointLoad& load = *cluster_->loads[endpoint_];
  if (!outlier->is_failure(static_cast<int>(status_))) {
    load.consecutive_failures = 0;
    return;
  }
  // Reported every `consecutive_failures` in a row: the control thread decides (and ignores
  // the report while the endpoint is ejected already).
  if (++load.consecutive_failures >= outlier->consecutive_failures) {
    load.consecutive_failures = 0;
    worker_.report_consecutive_failures(cluster_->snapshot->config.name, endpoint_stats().address);
  }
}

}  // namespace sluice::proxy
