// The proxy's configuration: immutable structs parsed and validated from YAML.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/expected.h"
#include "core/health.h"
#include "core/outlier_detection.h"
#include "core/policy_config.h"
#include "core/retry.h"
#include "core/service_config.h"
#include "core/subset.h"

namespace sluice::config {

using Millis = std::chrono::milliseconds;

// "host:port"; host is an IPv4 literal, a bracketed IPv6 literal or a name.
struct HostPort {
  std::string host;
  uint16_t port = 0;
  std::string to_string() const;
  bool operator==(const HostPort&) const = default;
};

struct Endpoint {
  HostPort address;
  // From discovery (the endpoints file); the config's own list sets only the address.
  uint32_t weight = 1;
  std::string zone{};
  std::map<std::string, std::string> metadata{};
  bool operator==(const Endpoint&) const = default;
};

// Where a cluster's endpoints come from when they are not listed in the config.
struct Discovery {
  std::string type;  // "file", "dns" or "etcd"
  // file: the endpoints file (relative paths: to the config file's folder).
  std::string path;
  // dns: "name:port"; every A and AAAA record of the name is an endpoint on that port.
  HostPort name;
  // dns: the DNS server to ask (unset: the system's, /etc/resolv.conf).
  std::optional<HostPort> server;
  // dns: re-resolve after the records' TTL, clamped to [min_refresh, max_refresh] (+-10%
  // jitter); after a failure, back off from min_refresh.
  Millis min_refresh{1000};
  Millis max_refresh{30000};
  // etcd: the cluster's client endpoints ("host:port"), tried in turn.
  std::vector<HostPort> etcd_endpoints;
  // etcd: every key under this prefix is one endpoint (value: address or JSON, see
  // docs/discovery.md).
  std::string prefix;
  // dns, set by the proxy for static endpoints given by name (not from YAML): ask the way the
  // system resolver would (the hosts file, then DNS with resolv.conf's search list) instead of
  // the name's A/AAAA records as written.
  bool system_lookup = false;
  bool operator==(const Discovery&) const = default;
};

// Each proxy instance keeps only `size` endpoints of the cluster (docs/configuration.md).
struct Subset {
  uint32_t size = 0;
  core::SubsetMode mode = core::SubsetMode::kRendezvous;
  // deterministic: this instance's dense id in [0, client_count); rendezvous: its hash seed
  // (unset: a random seed per process, kept across reloads).
  std::optional<uint64_t> client_id;
  uint64_t client_count = 0;
  // A fresh subset this often (+-10% jitter); 0 = never.
  Millis rotate_every{0};
  bool operator==(const Subset&) const = default;
};

struct Cluster {
  std::string name;
  core::PolicyConfig policy;
  std::optional<Subset> subset;
  // Set: endpoints whose calls fail are ejected for a while (docs/configuration.md).
  std::optional<core::OutlierConfig> outlier_detection;
  // Set: every endpoint is checked with grpc.health.v1 and unhealthy ones get no calls.
  std::optional<core::HealthCheckConfig> health_check;
  // gRPC service config (retryPolicy, timeout, ...) for calls to this cluster; a route's own
  // service_config replaces it for the calls of that route.
  std::optional<core::ServiceConfig> service_config;
  // Retries beyond this share of the cluster's calls are not sent (docs/configuration.md).
  core::RetryBudget::Options retry_budget;
  // Envoy's circuit breakers, over all workers: calls beyond them fail with UNAVAILABLE at once
  // (a retry beyond max_retries is not sent). The defaults never bite in normal use.
  struct CircuitBreakers {
    uint64_t max_requests = 100000;  // calls in flight to the cluster
    uint64_t max_pending = 100000;   // calls waiting for a stream slot in the cluster's pools
    uint64_t max_retries = 1024;     // calls with a retry in progress
    bool operator==(const CircuitBreakers&) const = default;
  } circuit_breakers;
  std::vector<Endpoint> endpoints;
  // Set: endpoints come from discovery (and `endpoints` is empty in the file).
  std::optional<Discovery> discovery;
  // Upstream HTTP/2 connections per endpoint and per worker, opened when every open one is at
  // the backend's SETTINGS_MAX_CONCURRENT_STREAMS.
  uint32_t max_connections_per_endpoint = 8;
  // Calls that wait for a free stream slot, per endpoint and worker; beyond that: UNAVAILABLE.
  uint32_t max_pending_calls = 4096;
  Millis connect_timeout{2000};
  // How long a call may wait for a free stream slot before it fails with UNAVAILABLE.
  Millis pending_timeout{5000};
  // Keepalive: a PING when an upstream connection with calls in flight has received nothing
  // for keepalive_time; no answer within keepalive_timeout and the connection is closed (its
  // calls fail over or get UNAVAILABLE). 0 = off.
  Millis keepalive_time{0};
  Millis keepalive_timeout{20000};
  // Upstream connections take no new calls after this age (+-10% jitter) and close once idle,
  // so they rotate too; 0 = forever.
  Millis max_connection_age{0};
};

struct RouteMatch {
  std::string service;    // fully qualified gRPC service, "pkg.Svc"; "" or "*" = any service
  std::string method;     // "" = any method of the service
  std::string authority;  // "" = any :authority
};

struct Route {
  RouteMatch match;
  std::string cluster;
  // Deadline for calls that arrive without grpc-timeout; 0 = none (a call without a deadline
  // runs as long as it likes: no default cuts long-lived streams).
  Millis timeout{0};
  // Cap on the client's grpc-timeout (and on `timeout`); 0 = no cap.
  Millis max_timeout{0};
  // Replaces the cluster's service_config for this route's calls.
  std::optional<core::ServiceConfig> service_config;
};

// A route that sends every call to `cluster`.
inline Route catch_all_route(std::string cluster) {
  Route route;
  route.cluster = std::move(cluster);
  return route;
}

struct Listener {
  std::string name;
  HostPort address;
  // Downstream connection lifetime (gRFC A9): after this age (+-10% jitter per connection)
  // clients get a graceful GOAWAY and move; 0 = connections live forever.
  Millis max_connection_age{0};
  // After the GOAWAY, in-flight calls get this long before the connection is closed;
  // 0 = as long as they need.
  Millis max_connection_age_grace{0};
  // A connection without calls for this long gets a graceful GOAWAY; 0 = never.
  Millis idle_timeout{0};
  // Dead-client detection: a PING after keepalive_time without a frame from the client; no
  // answer within keepalive_timeout and the connection is closed. 0 = off.
  Millis keepalive_time{0};
  Millis keepalive_timeout{20000};
  // Open connections this listener takes (each worker an equal share); beyond it a new
  // connection is closed at once. 0 = no limit but the file descriptor limit.
  uint32_t max_connections = 0;
};

struct Admin {
  bool enabled = true;
  HostPort address{"127.0.0.1", 9901};
};

struct Http2 {
  // Per-stream receive window we advertise on both sides; it bounds the bytes buffered per
  // stream and direction, since we only open the window once the other side took the bytes.
  uint32_t stream_window = 1u << 20;
  // Per-connection receive window; bounds what one connection can have buffered in total.
  uint32_t connection_window = 16u << 20;
  uint32_t max_concurrent_streams = 1000;  // advertised to downstream clients
  uint32_t max_header_list_size = 16384;
  // Ping policing (gRFC A8): a client PING sooner than this after the previous one, with no
  // response frames in between, is a strike; beyond max_ping_strikes the client gets GOAWAY
  // ENHANCE_YOUR_CALM "too_many_pings".
  Millis min_ping_interval{10000};
  uint32_t max_ping_strikes = 2;
  // Bytes the process may hold for calls (received and not yet passed on, both sides, plus
  // unsent socket writes), each worker an equal share. Over it, new downstream streams get
  // REFUSED_STREAM (clients retry them elsewhere) instead of memory growing.
  uint64_t max_buffered_bytes = uint64_t{512} << 20;
  // Abuse limits per downstream connection, token buckets (burst, then per second): client
  // resets of streams not yet answered (rapid reset, CVE-2023-44487), and SETTINGS or empty
  // DATA frames. Over a limit: GOAWAY ENHANCE_YOUR_CALM. CONTINUATION frames per header block.
  uint32_t reset_burst = 1000;
  uint32_t reset_rate = 100;
  uint32_t control_frame_burst = 1000;
  uint32_t control_frame_rate = 100;
  uint32_t max_continuations = 8;
};

struct Config {
  std::string source;    // file name the config came from ("<flags>" for the quick mode)
  uint32_t workers = 0;  // 0 = number of cores
  Millis drain_timeout{10000};
  std::vector<Listener> listeners;
  std::vector<Route> routes;
  std::vector<Cluster> clusters;
  Admin admin;
  Http2 http2;

  const Cluster* find_cluster(std::string_view name) const;
};

// A config error names the file, the line and column (1-based, 0 when unknown) and the field
// (a dotted path such as "clusters[1].endpoints[0]").
struct ConfigError {
  std::string file;
  int line = 0;
  int column = 0;
  std::string field;
  std::string message;
  // "file:line:column: field: message"
  std::string to_string() const;
};

Expected<Config, ConfigError> parse_config_file(const std::string& path);
Expected<Config, ConfigError> parse_config_string(std::string_view yaml, std::string_view file);

// Parses "host:port" / "[v6]:port"; used by the YAML parser and the command-line quick mode.
Expected<HostPort, std::string> parse_host_port(std::string_view text);

// The quick mode: one listener, one catch-all route, one round-robin cluster "default".
Expected<Config, ConfigError> quick_config(std::string_view listen,
                                           const std::vector<std::string>& upstreams);

}  // namespace sluice::config
