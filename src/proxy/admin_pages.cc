#include "proxy/admin_pages.h"

#include <nlohmann/json.hpp>

#include "admin/prometheus.h"
#include "health/health_probe.h"

namespace sluice::proxy {
namespace {

// {"consecutive_failures": n, ...}: outlier ejections of an endpoint by reason.
nlohmann::json ejections_of(const EndpointStats& e) {
  nlohmann::json out = nlohmann::json::object();
  for (size_t r = 0; r < e.ejections.size(); ++r) {
    out[std::string(core::ejection_reason_name(static_cast<core::EjectionReason>(r + 1)))] =
        read(e.ejections[r]);
  }
  return out;
}

}  // namespace
namespace {

using admin::PrometheusWriter;

void status_samples(PrometheusWriter& w, std::string_view name, PrometheusWriter::Labels labels,
                    const StatusCounters& counters, const char* label = "grpc_status") {
  for (int s = 0; s < wire::kStatusCodeCount; ++s) {
    uint64_t n = read(counters[s]);
    if (n == 0) continue;
    auto l = labels;
    l.emplace_back(label, std::string(wire::status_name(static_cast<wire::StatusCode>(s))));
    w.sample(name, l, n);
  }
}

void flow_samples(PrometheusWriter& w, const std::vector<const WorkerFlow*>& flows) {
  struct Side {
    const char* name;
    const http2::FlowStats WorkerFlow::*stats;
  };
  const Side sides[] = {{"downstream", &WorkerFlow::downstream},
                        {"upstream", &WorkerFlow::upstream}};
  auto sum = [&](const Side& side, auto field) {
    int64_t total = 0;
    for (const WorkerFlow* f : flows) {
      total += static_cast<int64_t>(((f->*side.stats).*field).load(std::memory_order_relaxed));
    }
    return total;
  };
  w.family("sluice_http2_unconsumed_bytes", "gauge",
           "DATA bytes received and not yet given back to the peer's window (0 once idle).");
  for (const Side& s : sides) {
    w.sample("sluice_http2_unconsumed_bytes", {{"side", s.name}},
             sum(s, &http2::FlowStats::unconsumed_bytes));
  }
  w.family("sluice_http2_overconsumed_bytes_total", "counter",
           "Window given back beyond the bytes received: a flow-control fault (never moves).");
  for (const Side& s : sides) {
    w.sample("sluice_http2_overconsumed_bytes_total", {{"side", s.name}},
             sum(s, &http2::FlowStats::overconsumed_bytes));
  }
  w.family("sluice_http2_write_buffered_bytes", "gauge",
           "Bytes waiting for a socket that would block.");
  for (const Side& s : sides) {
    w.sample("sluice_http2_write_buffered_bytes", {{"side", s.name}},
             sum(s, &http2::FlowStats::write_buffered_bytes));
  }
}

}  // namespace

std::string render_metrics(const Snapshot& snapshot, const ProxyStats& stats,
                           const std::map<std::string, DiscoveryStatus>& discovery,
                           const std::vector<const WorkerFlow*>& flows) {
  PrometheusWriter w;
  flow_samples(w, flows);
  w.family("sluice_downstream_refused_streams_total", "counter",
           "New streams refused (REFUSED_STREAM) because buffered bytes were over "
           "http2.max_buffered_bytes.");
  w.sample("sluice_downstream_refused_streams_total", {{"reason", "buffer_limit"}},
           read(stats.streams_refused_buffer_limit));
  w.family("sluice_downstream_abuse_goaways_total", "counter",
           "Downstream connections sent GOAWAY ENHANCE_YOUR_CALM, by what they flooded.");
  const char* abuses[] = {"resets", "settings", "empty_data", "continuations", "flood"};
  for (size_t i = 0; i < std::size(abuses); ++i) {
    w.sample("sluice_downstream_abuse_goaways_total", {{"reason", abuses[i]}},
             read(stats.abuse_goaways[i]));
  }
  w.family("sluice_accept_errors_total", "counter",
           "Failed accepts (out of file descriptors or memory); the worker backs off.");
  w.sample("sluice_accept_errors_total", {}, read(stats.accept_errors));
  w.family("sluice_downstream_connections_rejected_total", "counter",
           "Connections closed at accept because their listener was at max_connections.");
  w.sample("sluice_downstream_connections_rejected_total", {}, read(stats.connections_rejected));
  w.family("sluice_worker_exceptions_total", "counter",
           "Exceptions that reached a worker's event loop (logged; it kept serving).");
  w.sample("sluice_worker_exceptions_total", {}, read(stats.worker_exceptions));
  w.family("sluice_config_reloads_total", "counter",
           "Config reloads (SIGHUP, POST /reload) by result (rejected: the old config serves).");
  w.sample("sluice_config_reloads_total", {{"result", "ok"}}, read(stats.reloads_ok));
  w.sample("sluice_config_reloads_total", {{"result", "rejected"}}, read(stats.reloads_rejected));
  w.family("sluice_calls_total", "counter",
           "Finished calls by cluster, endpoint and grpc-status (endpoint \"\": none reached).");
  status_samples(w, "sluice_calls_total", {{"cluster", ""}, {"endpoint", ""}},
                 stats.calls_unrouted);
  for (const auto& c : snapshot.clusters) {
    status_samples(w, "sluice_calls_total", {{"cluster", c.stats->name}, {"endpoint", ""}},
                   c.stats->calls_without_endpoint);
    for (const auto& e : c.stats->endpoints) {
      status_samples(w, "sluice_calls_total",
                     {{"cluster", c.stats->name}, {"endpoint", e->address}}, e->calls);
    }
  }
  w.family("sluice_calls_in_flight", "gauge", "Calls in progress.");
  w.sample("sluice_calls_in_flight", {}, read(stats.calls_in_flight));
  w.family("sluice_endpoint_calls_in_flight", "gauge", "Calls in progress per endpoint.");
  for (const auto& c : snapshot.clusters) {
    for (const auto& e : c.stats->endpoints) {
      w.sample("sluice_endpoint_calls_in_flight",
               {{"cluster", c.stats->name}, {"endpoint", e->address}}, read(e->in_flight));
    }
  }
  w.family("sluice_upstream_connections", "gauge", "Open upstream HTTP/2 connections.");
  for (const auto& c : snapshot.clusters) {
    for (const auto& e : c.stats->endpoints) {
      w.sample("sluice_upstream_connections",
               {{"cluster", c.stats->name}, {"endpoint", e->address}},
               read(e->upstream_connections));
    }
  }
  w.family("sluice_upstream_connections_opened_total", "counter",
           "Upstream connections opened (connect attempts).");
  for (const auto& c : snapshot.clusters) {
    for (const auto& e : c.stats->endpoints) {
      w.sample("sluice_upstream_connections_opened_total",
               {{"cluster", c.stats->name}, {"endpoint", e->address}},
               read(e->upstream_connections_opened));
    }
  }
  w.family("sluice_upstream_connect_failures_total", "counter", "Failed upstream connects.");
  for (const auto& c : snapshot.clusters) {
    for (const auto& e : c.stats->endpoints) {
      w.sample("sluice_upstream_connect_failures_total",
               {{"cluster", c.stats->name}, {"endpoint", e->address}}, read(e->connect_failures));
    }
  }
  w.family("sluice_upstream_goaways_total", "counter",
           "GOAWAY frames from backends (connection rotation, shutdown).");
  for (const auto& c : snapshot.clusters) {
    for (const auto& e : c.stats->endpoints) {
      w.sample("sluice_upstream_goaways_total",
               {{"cluster", c.stats->name}, {"endpoint", e->address}}, read(e->goaways_received));
    }
  }
  w.family("sluice_upstream_replays_total", "counter",
           "Calls an endpoint never processed, sent again transparently, by reason.");
  for (const auto& c : snapshot.clusters) {
    for (const auto& e : c.stats->endpoints) {
      for (const auto& [reason, counter] :
           {std::pair{"refused", &e->replays_refused},
            std::pair{"connection_lost", &e->replays_connection_lost}}) {
        w.sample("sluice_upstream_replays_total",
                 {{"cluster", c.stats->name}, {"endpoint", e->address}, {"reason", reason}},
                 read(*counter));
      }
    }
  }
  w.family("sluice_endpoint_ejected", "gauge",
           "1 while outlier detection keeps the endpoint out of balancing.");
  for (const auto& c : snapshot.clusters) {
    for (const auto& e : c.stats->endpoints) {
      w.sample("sluice_endpoint_ejected", {{"cluster", c.stats->name}, {"endpoint", e->address}},
               read(e->ejected));
    }
  }
  w.family("sluice_outlier_ejections_total", "counter", "Outlier ejections, by reason.");
  for (const auto& c : snapshot.clusters) {
    if (!c.config.outlier_detection) continue;
    for (const auto& e : c.stats->endpoints) {
      for (size_t r = 0; r < e->ejections.size(); ++r) {
        const auto reason = core::ejection_reason_name(static_cast<core::EjectionReason>(r + 1));
        w.sample(
            "sluice_outlier_ejections_total",
            {{"cluster", c.stats->name}, {"endpoint", e->address}, {"reason", std::string(reason)}},
            read(e->ejections[r]));
      }
    }
  }
  w.family("sluice_endpoint_healthy", "gauge",
           "1 while the endpoint passes its health checks (clusters with health_check).");
  for (const auto& c : snapshot.clusters) {
    if (!c.config.health_check) continue;
    for (const auto& e : c.stats->endpoints) {
      const bool healthy = read(e->health) == static_cast<int64_t>(core::Health::kHealthy);
      w.sample("sluice_endpoint_healthy", {{"cluster", c.stats->name}, {"endpoint", e->address}},
               healthy ? 1 : 0);
    }
  }
  w.family("sluice_health_checks_total", "counter",
           "grpc.health.v1 checks by result (passed, failed, timeout, error).");
  for (const auto& c : snapshot.clusters) {
    if (!c.config.health_check) continue;
    for (const auto& e : c.stats->endpoints) {
      for (size_t r = 0; r < e->health_checks.size(); ++r) {
        const auto result = health::outcome_name(static_cast<health::CheckResult::Outcome>(r));
        w.sample(
            "sluice_health_checks_total",
            {{"cluster", c.stats->name}, {"endpoint", e->address}, {"result", std::string(result)}},
            read(e->health_checks[r]));
      }
    }
  }
  w.family("sluice_cluster_panic", "gauge",
           "1 while too few of the cluster's endpoints are healthy and all of them get calls.");
  for (const auto& c : snapshot.clusters) {
    if (c.config.health_check) {
      w.sample("sluice_cluster_panic", {{"cluster", c.stats->name}}, c.panic ? 1 : 0);
    }
  }
  w.family("sluice_subset_rotation", "gauge",
           "Rotation epoch of a cluster's subset (grows by one per rotate_every).");
  for (const auto& c : snapshot.clusters) {
    if (c.config.subset) {
      w.sample("sluice_subset_rotation", {{"cluster", c.stats->name}}, c.subset_rotation);
    }
  }
  w.family("sluice_retries_total", "counter",
           "Retries by the service config's retryPolicy, by the grpc-status of the attempt "
           "they replaced (reason).");
  for (const auto& c : snapshot.clusters) {
    status_samples(w, "sluice_retries_total", {{"cluster", c.stats->name}}, c.stats->retries,
                   "reason");
  }
  w.family("sluice_retry_budget_exhausted_total", "counter",
           "Retries not sent because the cluster's retry budget was spent.");
  for (const auto& c : snapshot.clusters) {
    w.sample("sluice_retry_budget_exhausted_total", {{"cluster", c.stats->name}},
             read(c.stats->retry_budget_exhausted));
  }
  w.family("sluice_circuit_breaker_overflow_total", "counter",
           "Calls turned away (UNAVAILABLE) or retries not sent at a circuit breaker's limit.");
  for (const auto& c : snapshot.clusters) {
    for (size_t k = 0; k < c.stats->breaker_overflows.size(); ++k) {
      w.sample("sluice_circuit_breaker_overflow_total",
               {{"cluster", c.stats->name}, {"kind", kBreakerKindNames[k]}},
               read(c.stats->breaker_overflows[k]));
    }
  }
  w.family("sluice_call_attempts", "summary",
           "Upstream attempts per call that reached an endpoint (replays and retries included).");
  for (const auto& c : snapshot.clusters) {
    w.sample("sluice_call_attempts_sum", {{"cluster", c.stats->name}}, read(c.stats->attempts_sum));
    w.sample("sluice_call_attempts_count", {{"cluster", c.stats->name}},
             read(c.stats->attempted_calls));
  }
  w.family("sluice_cluster_endpoints", "gauge", "Endpoints a cluster balances over now.");
  for (const auto& c : snapshot.clusters) {
    w.sample("sluice_cluster_endpoints", {{"cluster", c.stats->name}},
             c.endpoints->endpoints.size());
  }
  w.family("sluice_discovery_updates_total", "counter", "Good endpoint sets from discovery.");
  for (const auto& [name, d] : discovery) {
    w.sample("sluice_discovery_updates_total", {{"cluster", name}, {"source", d.source}},
             d.updates);
  }
  w.family("sluice_discovery_errors_total", "counter",
           "Discovery results rejected (the last good set kept serving).");
  for (const auto& [name, d] : discovery) {
    w.sample("sluice_discovery_errors_total", {{"cluster", name}, {"source", d.source}}, d.errors);
  }
  w.family("sluice_discovery_last_update_timestamp_seconds", "gauge",
           "Unix time of the last good endpoint set.");
  for (const auto& [name, d] : discovery) {
    w.sample("sluice_discovery_last_update_timestamp_seconds",
             {{"cluster", name}, {"source", d.source}}, d.last_update_ms / 1000.0);
  }
  w.family("sluice_downstream_connections", "gauge", "Open downstream HTTP/2 connections.");
  w.sample("sluice_downstream_connections", {}, read(stats.downstream_connections));
  w.family("sluice_downstream_connections_total", "counter", "Accepted downstream connections.");
  w.sample("sluice_downstream_connections_total", {}, read(stats.downstream_connections_total));
  return w.take();
}

namespace {

// An endpoint's health and its last check, for /clusters.
nlohmann::json health_of(const EndpointStats& e) {
  nlohmann::json out = {
      {"state", std::string(core::health_name(static_cast<core::Health>(read(e.health))))}};
  const int64_t outcome = read(e.last_check_outcome);
  if (outcome >= 0) {
    out["last_check"] = {
        {"result",
         std::string(health::outcome_name(static_cast<health::CheckResult::Outcome>(outcome)))},
        {"detail", e.last_check_detail},
        {"unix_ms", read(e.last_check_unix_ms)}};
  }
  nlohmann::json checks = nlohmann::json::object();
  for (size_t r = 0; r < e.health_checks.size(); ++r) {
    checks[std::string(health::outcome_name(static_cast<health::CheckResult::Outcome>(r)))] =
        read(e.health_checks[r]);
  }
  out["checks"] = checks;
  return out;
}

}  // namespace

std::string render_clusters(const Snapshot& snapshot,
                            const std::map<std::string, DiscoveryStatus>& discovery) {
  nlohmann::json clusters = nlohmann::json::array();
  for (const auto& c : snapshot.clusters) {
    auto d = discovery.find(c.config.name);
    const std::string source = d == discovery.end() ? "static" : d->second.source;
    nlohmann::json endpoints = nlohmann::json::array();
    for (size_t i = 0; i < c.stats->endpoints.size(); ++i) {
      const auto& e = c.stats->endpoints[i];
      nlohmann::json by_status = nlohmann::json::object();
      uint64_t total = 0;
      for (int s = 0; s < wire::kStatusCodeCount; ++s) {
        uint64_t n = read(e->calls[s]);
        total += n;
        if (n > 0) by_status[std::string(wire::status_name(static_cast<wire::StatusCode>(s)))] = n;
      }
      endpoints.push_back({{"address", e->address},
                           {"source", source},
                           {"calls", total},
                           {"calls_by_status", by_status},
                           {"in_flight", read(e->in_flight)},
                           {"upstream_connections", read(e->upstream_connections)},
                           {"connect_failures", read(e->connect_failures)},
                           {"ejected", read(e->ejected) != 0},
                           {"ejected_until_unix_ms", read(e->ejected_until_unix_ms)},
                           {"ejections", ejections_of(*e)},
                           {"eligible", c.eligible.empty() || c.eligible[i]}});
      if (c.config.health_check) endpoints.back()["health"] = health_of(*e);
    }
    nlohmann::json cluster = {{"name", c.config.name},
                              {"policy", std::string(core::policy_name(c.config.policy.kind))},
                              {"endpoints", endpoints}};
    if (c.config.health_check) cluster["panic"] = c.panic;
    if (d != discovery.end()) {
      cluster["discovery"] = {{"source", d->second.source},
                              {"last_update_unix_ms", d->second.last_update_ms},
                              {"last_error", d->second.last_error},
                              {"updates", d->second.updates},
                              {"errors", d->second.errors}};
    }
    clusters.push_back(std::move(cluster));
  }
  return nlohmann::json{{"clusters", clusters}}.dump(2);
}

}  // namespace sluice::proxy
