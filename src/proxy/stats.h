// Counters the workers bump on the call path (relaxed atomics: no locks, no ordering needed)
// and the admin page reads. One EndpointStats per cluster endpoint, shared by all workers.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "http2/flow_stats.h"
#include "http2/grpc/status.h"

namespace sluice::proxy {

using Counter = std::atomic<uint64_t>;
using Gauge = std::atomic<int64_t>;
using StatusCounters = std::array<Counter, wire::kStatusCodeCount>;

inline void bump(Counter& c, uint64_t n = 1) { c.fetch_add(n, std::memory_order_relaxed); }
inline void add(Gauge& g, int64_t n) { g.fetch_add(n, std::memory_order_relaxed); }
inline uint64_t read(const Counter& c) { return c.load(std::memory_order_relaxed); }
inline int64_t read(const Gauge& g) { return g.load(std::memory_order_relaxed); }

struct EndpointStats {
  explicit EndpointStats(std::string a) : address(std::move(a)) {}
  const std::string address;
  StatusCounters calls{};  // finished calls by grpc-status
  Gauge in_flight{0};
  Gauge upstream_connections{0};
  Counter upstream_connections_opened{0};
  Counter connect_failures{0};
  Counter goaways_received{0};  // GOAWAY frames from the backend (rotation, shutdown)
  // Calls taken back from this endpoint because it never processed them, and sent again:
  // refused (REFUSED_STREAM, above a GOAWAY's last stream id) or its connection was lost first.
  Counter replays_refused{0};
  Counter replays_connection_lost{0};
  // Outlier detection (written by the control thread): ejected now (0/1), ejections by reason
  // (core::EjectionReason minus kNone), and until when (unix ms) the current one lasts.
  Gauge ejected{0};
  std::array<Counter, 3> ejections{};
  Gauge ejected_until_unix_ms{0};
  // Active health checks (written by the control thread): core::Health, checks by outcome
  // (health::CheckResult::Outcome order), and the last one's outcome and time. The detail is
  // read and written on the control thread only (admin pages render there).
  Gauge health{0};
  std::array<Counter, 4> health_checks{};
  Gauge last_check_outcome{-1};
  Gauge last_check_unix_ms{0};
  std::string last_check_detail;
};

// What a circuit breaker limits (ClusterStats::breaker_overflows, the metric's `kind`).
enum class BreakerKind { kRequests, kPending, kRetries };
inline constexpr const char* kBreakerKindNames[] = {"requests", "pending", "retries"};

struct ClusterStats {
  explicit ClusterStats(std::string n) : name(std::move(n)) {}
  const std::string name;
  // Calls routed here that never reached an endpoint (none reachable, queue full or timed out).
  StatusCounters calls_without_endpoint{};
  // Retries of the service config's retryPolicy, by the status of the attempt they replaced,
  // and retries the retry budget did not allow.
  StatusCounters retries{};
  Counter retry_budget_exhausted{0};
  // Upstream attempts of the calls that reached an endpoint (replays and retries included):
  // their sum and the count of such calls.
  Counter attempts_sum{0};
  Counter attempted_calls{0};
  // Circuit breakers (config::Cluster::CircuitBreakers), over all workers: what each limit
  // counts now, and the calls turned away by each (BreakerKind order).
  Gauge requests_in_flight{0};
  Gauge pending{0};
  Gauge retrying{0};
  std::array<Counter, 3> breaker_overflows{};
  // Shared with the snapshots before and after a reload, so counters of an endpoint that stays
  // keep counting.
  std::vector<std::shared_ptr<EndpointStats>> endpoints;
};

struct ProxyStats {
  Gauge downstream_connections{0};
  Counter downstream_connections_total{0};
  Gauge calls_in_flight{0};
  // Calls answered by the proxy itself before routing (malformed request, no route).
  StatusCounters calls_unrouted{};
  // New streams refused (REFUSED_STREAM) because the worker's buffered bytes were over its
  // share of http2.max_buffered_bytes.
  Counter streams_refused_buffer_limit{0};
  // Connections told GOAWAY ENHANCE_YOUR_CALM, by abuse (ServerConnection::Abuse order).
  std::array<Counter, 5> abuse_goaways{};
  // accept() failures (EMFILE and the like: the worker backs off) and connections closed at
  // once because their listener was at max_connections.
  Counter accept_errors{0};
  Counter connections_rejected{0};
  // Exceptions that reached a worker's event loop (logged; the worker keeps serving).
  Counter worker_exceptions{0};
  // Config reloads (SIGHUP, POST /reload) applied and rejected (the old config kept serving).
  Counter reloads_ok{0};
  Counter reloads_rejected{0};
};

// One worker's connections, by side (one writer each: the worker).
struct WorkerFlow {
  http2::FlowStats downstream;
  http2::FlowStats upstream;
};

}  // namespace sluice::proxy
