#include "health/health_probe.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#include "http2/grpc/status.h"
#include "http2/grpc/timeout.h"

namespace sluice::health {
namespace {

using Outcome = CheckResult::Outcome;

// Health answers are a few bytes: small windows keep 1000 probes' sessions small.
http2::SessionSettings probe_settings() {
  http2::SessionSettings s;
  s.stream_window = 65535;
  s.connection_window = 65535;
  s.max_concurrent_streams = 0;
  return s;
}

CheckResult from_status(ServingStatus status) {
  return {status == ServingStatus::kServing ? Outcome::kPassed : Outcome::kFailed,
          std::string(serving_status_name(status))};
}

std::string authority_of(const asio::ip::tcp::endpoint& e) {
  const std::string host = e.address().to_string();
  return (e.address().is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(e.port());
}

}  // namespace

std::string_view outcome_name(CheckResult::Outcome outcome) {
  switch (outcome) {
    case Outcome::kPassed:
      return "passed";
    case Outcome::kFailed:
      return "failed";
    case Outcome::kTimeout:
      return "timeout";
    case Outcome::kError:
      break;
  }
  return "error";
}

Probe::Probe(asio::any_io_executor executor, asio::ip::tcp::endpoint target,
             const core::HealthCheckConfig& config, Report report, NextDelay next_delay)
    : executor_(executor),
      target_(std::move(target)),
      config_(config),
      report_(std::move(report)),
      next_delay_(std::move(next_delay)),
      request_(encode_check_request(config.service)),
      next_timer_(executor),
      timeout_timer_(executor) {}

Probe::~Probe() {
  stopping_ = true;
  next_timer_.cancel();
  timeout_timer_.cancel();
  reset_stream();
  if (conn_) {
    auto conn = std::move(conn_);
    conn->close("health check stopped");
  }
}

void Probe::start(std::chrono::milliseconds delay) { schedule(delay); }

void Probe::check_soon() {
  if (checking_) return;
  schedule(std::chrono::milliseconds(0));
}

void Probe::schedule(std::chrono::milliseconds delay) {
  next_timer_.expires_after(delay);
  // The timer dies with the probe and cancel() catches a wait not yet fired; a wait that fired
  // and is queued sees the life token gone.
  next_timer_.async_wait([this, life = std::weak_ptr<int>(life_)](asio::error_code ec) {
    if (!ec && !life.expired()) begin_check();
  });
}

void Probe::begin_check() {
  if (checking_) return;
  if (watch_ && stream_id_ >= 0 && have_status_) {
    // The Watch stream is live: its last status stands for this interval's check.
    checking_ = true;
    decide(from_status(last_));
    return;
  }
  checking_ = true;
  timeout_timer_.expires_after(config_.timeout);
  timeout_timer_.async_wait([this, life = std::weak_ptr<int>(life_)](asio::error_code ec) {
    if (ec || life.expired() || !checking_) return;
    const bool connecting = conn_ && !conn_->connected();
    decide(
        {Outcome::kTimeout, "timed out after " + std::to_string(config_.timeout.count()) + " ms"});
    reset_stream();
    if (connecting) {
      auto conn = conn_;
      conn->close("health check connect timed out");
    }
  });
  if (stream_id_ >= 0) return;  // a Watch stream still waiting for its first status
  if (!conn_ || conn_->closed()) {
    conn_ = http2::ClientConnection::create(executor_, probe_settings(), *this);
    conn_->connect(target_, config_.timeout);
    return;  // submit() once connected
  }
  if (conn_->connected()) submit();
}

void Probe::on_connected(http2::ClientConnection& /*conn*/) {
  // No HTTP/2 keepalive here: gRPC servers allow a PING without data at most every 5 minutes
  // (gRFC A8) and close the connection of a client that pings more often, which a Watch
  // stream that hears nothing for a while would be.
  if (checking_ && stream_id_ < 0) submit();
}

void Probe::submit() {
  http2::HeaderBlock h;
  h.add(":method", "POST");
  h.add(":scheme", "http");
  h.add(":path", watch_ ? "/grpc.health.v1.Health/Watch" : "/grpc.health.v1.Health/Check");
  h.add(":authority", authority_of(target_));
  h.add("content-type", "application/grpc");
  h.add("te", "trailers");
  h.add("user-agent", "sluice-health-check");
  if (!watch_) h.add("grpc-timeout", wire::format_grpc_timeout(config_.timeout));
  request_sent_ = 0;
  reader_ = ResponseReader();
  have_status_ = false;
  status_seen_ = false;
  auto id = conn_->submit_request(h, /*has_body=*/true, this);
  if (!id) {
    decide({Outcome::kError, "cannot start the health call: " + id.error()});
    return;
  }
  stream_id_ = *id;
  watch_started_ = std::chrono::steady_clock::now();
}

http2::BodyRead Probe::read_request_body(uint8_t* buf, size_t len) {
  const size_t n = std::min(len, request_.size() - request_sent_);
  std::memcpy(buf, request_.data() + request_sent_, n);
  request_sent_ += n;
  const bool done = request_sent_ == request_.size();
  return {done ? http2::BodyRead::Kind::kEnd : http2::BodyRead::Kind::kData, n};
}

void Probe::on_response_headers(bool end_stream) {
  http2::HeaderBlock& headers = incoming_response_headers();
  const std::string_view status = headers.find(":status").value_or("");
  if (status != "200") {
    headers.clear();
    status_seen_ = true;
    const std::string why = "HTTP status " + std::string(status);
    reset_stream();
    stream_gone(why);
    return;
  }
  if (end_stream) {
    on_response_trailers();  // Trailers-Only: grpc-status is in this block
    return;
  }
  headers.clear();
}

void Probe::on_response_data(const uint8_t* data, size_t len) {
  if (conn_) conn_->consume(stream_id_, len);  // read at once: the window goes straight back
  auto fed = reader_.feed(data, len);
  if (!fed) {
    status_seen_ = true;
    reset_stream();
    stream_gone(fed.error());
    return;
  }
  while (reader_.has_status()) {
    last_ = reader_.pop_status();
    have_status_ = true;
    if (checking_) {
      decide(from_status(last_));
    } else if (watch_) {
      report_(from_status(last_));  // a change announced by Watch counts at once
    }
  }
}

void Probe::on_response_trailers() {
  http2::HeaderBlock& trailers = incoming_response_headers();
  const auto code = wire::parse_grpc_status(trailers.find("grpc-status").value_or(""));
  const std::string message =
      wire::percent_decode_message(trailers.find("grpc-message").value_or(""));
  trailers.clear();
  on_call_status(code ? static_cast<int>(*code) : static_cast<int>(wire::StatusCode::kUnknown),
                 code ? message : "no grpc-status");
}

void Probe::on_response_end() {
  on_call_status(static_cast<int>(wire::StatusCode::kUnknown), "no trailers");
}

void Probe::on_call_status(int code, std::string_view message) {
  status_seen_ = true;
  const auto status = static_cast<wire::StatusCode>(code);
  if (watch_ && status == wire::StatusCode::kUnimplemented) {
    // A server without Watch: the check under way goes on as a Check once this stream closes.
    watch_ = false;
    fallback_pending_ = true;
    spdlog::info("health check of {}: Watch is not implemented, using Check",
                 authority_of(target_));
    return;
  }
  if (status == wire::StatusCode::kOk && have_status_) return;  // Check answered
  std::string why = std::string(watch_ ? "Watch" : "Check") + " ended with " +
                    std::string(wire::status_name(status));
  if (!message.empty()) why += ": " + std::string(message);
  if (status == wire::StatusCode::kUnimplemented) {
    why += " (the backend does not implement grpc.health.v1)";
  }
  have_status_ = false;
  stream_gone(why);
}

void Probe::on_upstream_closed(uint32_t error_code, bool /*processed*/) {
  stream_id_ = -1;
  if (!status_seen_) {
    status_seen_ = true;
    have_status_ = false;
    stream_gone(error_code == http2::kConnectionLost
                    ? std::string("connection lost")
                    : "stream reset (HTTP/2 error " + std::to_string(error_code) + ")");
  }
  if (fallback_pending_) {
    fallback_pending_ = false;
    if (checking_ && conn_ && conn_->accepting()) submit();
  }
}

void Probe::on_connection_closed(http2::ClientConnection& conn, const std::string& reason) {
  if (stopping_ || &conn != conn_.get()) return;
  conn_.reset();  // whoever closed it holds a reference until this returns
  if (checking_ && stream_id_ < 0) decide({Outcome::kError, reason});
}

void Probe::stream_gone(const std::string& why) {
  if (checking_) {
    decide({Outcome::kError, why});
    return;
  }
  if (!watch_) return;
  // A Watch that ran for a while and ended (the backend rotated its connection: max age,
  // GOAWAY) is opened again at once, and that check decides. One that ends soon after it
  // began counts as a failed check, so a backend that keeps ending it is not asked in a loop.
  if (std::chrono::steady_clock::now() - watch_started_ >= config_.interval) {
    schedule(std::chrono::milliseconds(0));
  } else {
    report_({Outcome::kError, why});
  }
}

void Probe::decide(CheckResult result) {
  if (!checking_) return;
  checking_ = false;
  timeout_timer_.cancel();
  report_(result);
  schedule(next_delay_());
}

void Probe::reset_stream() {
  if (stream_id_ < 0 || !conn_) return;
  const int32_t id = stream_id_;
  stream_id_ = -1;
  status_seen_ = true;  // its close is ours, not news
  conn_->reset_stream(id, wire::h2_error::kCancel);
  conn_->detach(id);
}

}  // namespace sluice::health
