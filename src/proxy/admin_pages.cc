#include "proxy/admin_pages.h"

#include <nlohmann/json.hpp>

#include "admin/prometheus.h"

namespace sluice::proxy {
namespace {

using admin::PrometheusWriter;

void status_samples(PrometheusWriter& w, std::string_view name, PrometheusWriter::Labels labels,
                    const StatusCounters& counters) {
  for (int s = 0; s < wire::kStatusCodeCount; ++s) {
    uint64_t n = read(counters[s]);
    if (n == 0) continue;
    auto l = labels;
    l.emplace_back("grpc_status", std::string(wire::status_name(static_cast<wire::StatusCode>(s))));
    w.sample(name, l, n);
  }
}

}  // namespace

std::string render_metrics(const Snapshot& snapshot, const ProxyStats& stats) {
  PrometheusWriter w;
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
  w.family("sluice_downstream_connections", "gauge", "Open downstream HTTP/2 connections.");
  w.sample("sluice_downstream_connections", {}, read(stats.downstream_connections));
  w.family("sluice_downstream_connections_total", "counter", "Accepted downstream connections.");
  w.sample("sluice_downstream_connections_total", {}, read(stats.downstream_connections_total));
  return w.take();
}

std::string render_clusters(const Snapshot& snapshot) {
  nlohmann::json clusters = nlohmann::json::array();
  for (const auto& c : snapshot.clusters) {
    nlohmann::json endpoints = nlohmann::json::array();
    for (const auto& e : c.stats->endpoints) {
      nlohmann::json by_status = nlohmann::json::object();
      uint64_t total = 0;
      for (int s = 0; s < wire::kStatusCodeCount; ++s) {
        uint64_t n = read(e->calls[s]);
        total += n;
        if (n > 0) by_status[std::string(wire::status_name(static_cast<wire::StatusCode>(s)))] = n;
      }
      endpoints.push_back({{"address", e->address},
                           {"source", "static"},
                           {"calls", total},
                           {"calls_by_status", by_status},
                           {"in_flight", read(e->in_flight)},
                           {"upstream_connections", read(e->upstream_connections)},
                           {"connect_failures", read(e->connect_failures)}});
    }
    clusters.push_back(
        {{"name", c.config.name}, {"policy", c.config.policy}, {"endpoints", endpoints}});
  }
  return nlohmann::json{{"clusters", clusters}}.dump(2);
}

}  // namespace sluice::proxy
