#include "proxy/upstream_pool.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

namespace sluice::proxy {
namespace {

// gRPC's connection backoff: 1 s, x1.6 per failure, at most 120 s, +-20% jitter.
std::chrono::milliseconds connect_backoff(int failures, core::Random& random) {
  double base = 1000.0 * std::pow(1.6, std::max(0, failures - 1));
  base = std::min(base, 120000.0);
  return core::jittered(std::chrono::milliseconds(static_cast<int64_t>(base)), 0.2, random);
}

}  // namespace

PoolSettings PoolSettings::of(const config::Cluster& c) {
  return {c.name,
          c.max_connections_per_endpoint,
          c.max_pending_calls,
          c.connect_timeout,
          c.pending_timeout,
          c.keepalive_time,
          c.keepalive_timeout,
          c.max_connection_age};
}

UpstreamPool::UpstreamPool(asio::any_io_executor executor, const PoolSettings& cluster,
                           const config::HostPort& endpoint, const http2::SessionSettings& settings,
                           std::shared_ptr<EndpointStats> stats, core::Random& random,
                           http2::FlowStats& flow)
    : executor_(executor),
      cluster_(cluster),
      endpoint_(endpoint),
      settings_(settings),
      stats_(std::move(stats)),
      random_(random),
      flow_(flow),
      pending_timer_(executor) {}

UpstreamPool::~UpstreamPool() { close_all(); }

Expected<void, std::string> UpstreamPool::assign(PoolCall* call) {
  if (Clock::now() < retry_at_) {
    return Unexpected(stats_->address + ": " + last_error_ + " (in reconnect backoff)");
  }
  if (pending_.empty()) {
    if (auto conn = free_connection()) {
      call->attach(conn);
      return {};
    }
    if (accepting_connections() < cluster_.max_connections_per_endpoint) {
      auto conn = open_connection();
      if (!conn) return Unexpected(stats_->address + ": " + last_error_);
      call->attach(conn);
      return {};
    }
  }
  if (pending_.size() >= cluster_.max_pending_calls) {
    return Unexpected(stats_->address + ": too many calls waiting for a stream slot");
  }
  pending_.push_back({call, Clock::now()});
  arm_pending_timer();
  return {};
}

void UpstreamPool::cancel(PoolCall* call) {
  auto it = std::find_if(pending_.begin(), pending_.end(),
                         [call](const Pending& p) { return p.call == call; });
  if (it != pending_.end()) pending_.erase(it);
}

void UpstreamPool::close_all() {
  auto conns = conns_;
  for (auto& c : conns) c->close("shutting down");
}

size_t UpstreamPool::accepting_connections() const {
  return static_cast<size_t>(
      std::count_if(conns_.begin(), conns_.end(), [](const auto& c) { return c->accepting(); }));
}

std::shared_ptr<http2::ClientConnection> UpstreamPool::free_connection() {
  for (auto& c : conns_) {
    if (c->has_free_slot(known_stream_limit_)) return c;
  }
  return nullptr;
}

std::shared_ptr<http2::ClientConnection> UpstreamPool::open_connection() {
  if (!resolved_) {
    // Endpoints reach pools as addresses: names are resolved on the control thread
    // (ClusterDiscovery), never with a blocking call here.
    asio::error_code ec;
    auto ip = asio::ip::make_address(endpoint_.host, ec);
    if (ec) {
      enter_backoff(endpoint_.host + " is not an IP address");
      return nullptr;
    }
    resolved_.emplace(ip, endpoint_.port);
  }
  auto conn = http2::ClientConnection::create(executor_, settings_, *this);
  conn->set_flow_stats(&flow_);
  conns_.push_back(conn);
  add(stats_->upstream_connections, 1);
  bump(stats_->upstream_connections_opened);
  conn->connect(*resolved_, cluster_.connect_timeout);
  if (cluster_.keepalive_time.count() > 0) {
    conn->set_keepalive(cluster_.keepalive_time, cluster_.keepalive_timeout);
  }
  if (cluster_.max_connection_age.count() > 0) {
    conn->set_max_age(core::jittered(cluster_.max_connection_age, 0.1, random_));
  }
  return conn;
}

void UpstreamPool::on_connected(http2::ClientConnection&) {
  failed_connects_ = 0;
  dispatch_pending();
}

void UpstreamPool::on_capacity_changed(http2::ClientConnection& conn) {
  if (conn.settings_received()) known_stream_limit_ = conn.stream_limit(known_stream_limit_);
  if (!pending_.empty()) dispatch_pending();
}

void UpstreamPool::on_connection_closed(http2::ClientConnection& conn, const std::string& reason) {
  auto it = std::find_if(conns_.begin(), conns_.end(),
                         [&conn](const auto& c) { return c.get() == &conn; });
  if (it == conns_.end()) return;
  // Keep the object alive until the current callback chain has unwound.
  asio::post(executor_, [keep = *it] {});
  conns_.erase(it);
  add(stats_->upstream_connections, -1);
  if (!conn.connected()) {
    bump(stats_->connect_failures);
    enter_backoff(reason);
    return;
  }
  dispatch_pending();
}

void UpstreamPool::enter_backoff(const std::string& reason) {
  ++failed_connects_;
  last_error_ = reason;
  auto delay = connect_backoff(failed_connects_, random_);
  retry_at_ = Clock::now() + delay;
  spdlog::warn("upstream {} (cluster {}): {}; next attempt in {} ms", stats_->address,
               cluster_.cluster, reason, delay.count());
  if (conns_.empty()) fail_pending(stats_->address + ": " + reason);
}

void UpstreamPool::dispatch_pending() {
  while (!pending_.empty()) {
    auto conn = free_connection();
    if (!conn && accepting_connections() < cluster_.max_connections_per_endpoint &&
        Clock::now() >= retry_at_) {
      conn = open_connection();
    }
    if (!conn) return;
    PoolCall* call = pending_.front().call;
    pending_.pop_front();
    call->attach(conn);
  }
}

void UpstreamPool::fail_pending(const std::string& reason) {
  auto pending = std::move(pending_);
  pending_.clear();
  for (auto& p : pending) p.call->on_pool_failure(reason);
}

void UpstreamPool::arm_pending_timer() {
  if (pending_timer_armed_ || pending_.empty()) return;
  pending_timer_armed_ = true;
  pending_timer_.expires_at(pending_.front().since + cluster_.pending_timeout);
  // A weak reference: the timer may have fired (its handler queued) just as a snapshot
  // change dropped the pool.
  pending_timer_.async_wait([weak = weak_from_this()](asio::error_code ec) {
    auto self = weak.lock();
    if (!self || ec == asio::error::operation_aborted) return;
    self->pending_timer_armed_ = false;
    self->expire_pending();
    self->arm_pending_timer();
  });
}

void UpstreamPool::expire_pending() {
  auto deadline = Clock::now() - cluster_.pending_timeout;
  while (!pending_.empty() && pending_.front().since <= deadline) {
    PoolCall* call = pending_.front().call;
    pending_.pop_front();
    call->on_pool_failure(stats_->address + ": no stream slot became free within " +
                          std::to_string(cluster_.pending_timeout.count()) + " ms");
  }
}

}  // namespace sluice::proxy
