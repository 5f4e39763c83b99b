// The upstream connections of one worker to one endpoint. A call takes a stream on a
// connection with a free slot under the backend's SETTINGS_MAX_CONCURRENT_STREAMS; else the pool
// opens another connection, up to the cluster's limit; beyond that the call waits, bounded in
// number and time. After a failed connect the endpoint is in backoff (1 s x1.6 up to 120 s,
// jitter 0.2) and calls fail over to other endpoints at once instead of waiting.
#pragma once

#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/expected.h"
#include "config/config.h"
#include "core/random.h"
#include "http2/client_connection.h"
#include "proxy/stats.h"

namespace sluice::proxy {

// What the pool needs of a call.
class PoolCall {
 public:
  virtual ~PoolCall() = default;
  // The call gets a stream on this connection now.
  virtual void attach(const std::shared_ptr<http2::ClientConnection>& conn) = 0;
  // A queued call could not get a stream (endpoint unreachable, wait timed out); nothing of
  // it reached the backend.
  virtual void on_pool_failure(const std::string& reason) = 0;
};

// What a pool needs of its cluster's config: small, so a snapshot with thousands of endpoints
// hands every pool its copy cheaply.
struct PoolSettings {
  std::string cluster;
  uint32_t max_connections_per_endpoint = 8;
  uint32_t max_pending_calls = 4096;
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds pending_timeout{5000};
  std::chrono::milliseconds keepalive_time{0};
  std::chrono::milliseconds keepalive_timeout{20000};
  std::chrono::milliseconds max_connection_age{0};
  static PoolSettings of(const config::Cluster& cluster);
};

class UpstreamPool final : public http2::ClientConnection::Owner,
                           public std::enable_shared_from_this<UpstreamPool> {
 public:
  UpstreamPool(asio::any_io_executor executor, const PoolSettings& cluster,
               const config::HostPort& endpoint, const http2::SessionSettings& settings,
               std::shared_ptr<EndpointStats> stats, core::Random& random, http2::FlowStats& flow);
  ~UpstreamPool() override;

  // Attaches the call to a connection now, or queues it; an error means the endpoint cannot
  // take it now (in connect backoff, queue full) and the call should go elsewhere.
  Expected<void, std::string> assign(PoolCall* call);
  // A queued call went away.
  void cancel(PoolCall* call);
  // A reload changed the cluster's settings; connections and waiting calls stay.
  void reconfigure(const PoolSettings& cluster) { cluster_ = cluster; }
  // Closes every connection (shutdown).
  void close_all();

  size_t connections() const { return conns_.size(); }
  // Connections that still take new streams (a GOAWAY'd or retired one only finishes its own).
  size_t accepting_connections() const;
  const std::string& address() const { return stats_->address; }

  void on_connected(http2::ClientConnection& conn) override;
  void on_capacity_changed(http2::ClientConnection& conn) override;
  void on_goaway_received(http2::ClientConnection&) override { bump(stats_->goaways_received); }
  void on_connection_closed(http2::ClientConnection& conn, const std::string& reason) override;

 private:
  using Clock = std::chrono::steady_clock;
  struct Pending {
    PoolCall* call;
    Clock::time_point since;
  };

  std::shared_ptr<http2::ClientConnection> free_connection();
  std::shared_ptr<http2::ClientConnection> open_connection();
  void dispatch_pending();
  void arm_pending_timer();
  void expire_pending();
  void fail_pending(const std::string& reason);
  void enter_backoff(const std::string& reason);

  asio::any_io_executor executor_;
  PoolSettings cluster_;
  const config::HostPort endpoint_;
  http2::SessionSettings settings_;
  std::shared_ptr<EndpointStats> stats_;
  core::Random& random_;
  http2::FlowStats& flow_;
  std::optional<asio::ip::tcp::endpoint> resolved_;
  std::vector<std::shared_ptr<http2::ClientConnection>> conns_;
  // The backend's last advertised SETTINGS_MAX_CONCURRENT_STREAMS, assumed for a new
  // connection until its own SETTINGS arrive (100, RFC 9113's suggested minimum, at first).
  uint32_t known_stream_limit_ = 100;
  std::deque<Pending> pending_;
  asio::steady_timer pending_timer_;
  bool pending_timer_armed_ = false;
  // Connect backoff.
  int failed_connects_ = 0;
  Clock::time_point retry_at_{};
  std::string last_error_;
};

}  // namespace sluice::proxy
