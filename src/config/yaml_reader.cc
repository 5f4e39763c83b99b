#include "config/yaml_reader.h"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <limits>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>
#include <type_traits>
#include <vector>

#include "config/node_reader.h"
#include "config/scalars.h"
#include "config/service_config_reader.h"
#include "http2/grpc/status.h"

namespace sluice::config {
namespace {

using namespace detail;

constexpr uint64_t kMaxWorkers = 256;
constexpr uint64_t kMinWindow = 65535;  // RFC 9113 default window; smaller ones only slow calls
constexpr uint64_t kMaxWindow = (uint64_t{1} << 31) - 1;
constexpr uint64_t kMinHeaderListSize = 1024;
constexpr uint64_t kMaxConnectionsPerEndpoint = 1024;
constexpr uint64_t kMaxPendingCalls = 1000000;
constexpr uint64_t kMaxWeight = 1000000;  // as in endpoint files
constexpr uint64_t kMaxRingSize = 8u << 20;
constexpr uint64_t kMaxSubsetSize = 100000;
constexpr uint64_t kMaxClients = 100000000;
constexpr uint64_t kMaxBreakerLimit = 100000000;

class Reader : NodeReader {
 public:
  explicit Reader(Locations& where) : NodeReader(where) {}

  Expected<Config, ConfigError> read(const YAML::Node& root) {
    Config config;
    config.source = where_.file();
    const std::vector<FieldRule> rules = {
        {"workers",
         [&](const YAML::Node& v, const std::string& p) {
           return assign(number(v, p, 0, kMaxWorkers), config.workers);
         }},
        {"drain_timeout",
         [&](const YAML::Node& v, const std::string& p) {
           return assign(duration(v, p), config.drain_timeout);
         }},
        {"admin",
         [&](const YAML::Node& v, const std::string& p) { return read_admin(v, p, config.admin); }},
        {"http2",
         [&](const YAML::Node& v, const std::string& p) { return read_http2(v, p, config.http2); }},
        {"listeners",
         [&](const YAML::Node& v, const std::string& p) {
           return read_list(v, p, [&](const YAML::Node& item, const std::string& item_path) {
             return read_listener(item, item_path, config.listeners.emplace_back());
           });
         }},
        {"routes",
         [&](const YAML::Node& v, const std::string& p) {
           return read_list(v, p, [&](const YAML::Node& item, const std::string& item_path) {
             return read_route(item, item_path, config.routes.emplace_back());
           });
         }},
        {"clusters",
         [&](const YAML::Node& v, const std::string& p) {
           return read_list(v, p, [&](const YAML::Node& item, const std::string& item_path) {
             return read_cluster(item, item_path, config.clusters.emplace_back());
           });
         }},
    };
    if (auto error = read_mapping(root, "", rules)) return Unexpected<ConfigError>(*error);
    return config;
  }

 private:
  MaybeError read_admin(const YAML::Node& node, const std::string& path, Admin& admin) {
    return read_mapping(
        node, path,
        {{"enabled", [&](const YAML::Node& v,
                         const std::string& p) { return assign(boolean(v, p), admin.enabled); }},
         {"address", [&](const YAML::Node& v, const std::string& p) {
            return assign(address(v, p, PortZero::kAllowed), admin.address);
          }}});
  }

  MaybeError read_http2(const YAML::Node& node, const std::string& path, Http2& http2) {
    return read_mapping(
        node, path,
        {{"stream_window",
          [&](const YAML::Node& v, const std::string& p) {
            return assign(size(v, p, kMinWindow, kMaxWindow), http2.stream_window);
          }},
         {"connection_window",
          [&](const YAML::Node& v, const std::string& p) {
            return assign(size(v, p, kMinWindow, kMaxWindow), http2.connection_window);
          }},
         {"max_concurrent_streams",
          [&](const YAML::Node& v, const std::string& p) {
            return assign(number(v, p, 1, kMaxWindow), http2.max_concurrent_streams);
          }},
         {"max_header_list_size",
          [&](const YAML::Node& v, const std::string& p) {
            return assign(size(v, p, kMinHeaderListSize, kMaxWindow), http2.max_header_list_size);
          }},
         {"min_ping_interval",
          [&](const YAML::Node& v, const std::string& p) {
            return assign(duration(v, p), http2.min_ping_interval);
          }},
         {"max_ping_strikes",
          [&](const YAML::Node& v, const std::string& p) {
            return assign(number(v, p, 0, 1000), http2.max_ping_strikes);
          }},
         {"max_buffered_bytes",
          [&](const YAML::Node& v, const std::string& p) {
            return assign(size(v, p, 1u << 20, uint64_t{1} << 40), http2.max_buffered_bytes);
          }},
         {"reset_burst",
          [&](const YAML::Node& v, const std::string& p) {
            return assign(number(v, p, 1, 1000000), http2.reset_burst);
          }},
         {"reset_rate",
          [&](const YAML::Node& v, const std::string& p) {
            return assign(number(v, p, 1, 1000000), http2.reset_rate);
          }},
         {"control_frame_burst",
          [&](const YAML::Node& v, const std::string& p) {
            return assign(number(v, p, 1, 1000000), http2.control_frame_burst);
          }},
         {"control_frame_rate",
          [&](const YAML::Node& v, const std::string& p) {
            return assign(number(v, p, 1, 1000000), http2.control_frame_rate);
          }},
         {"max_continuations", [&](const YAML::Node& v, const std::string& p) {
            return assign(number(v, p, 1, 1000), http2.max_continuations);
          }}});
  }

  MaybeError read_listener(const YAML::Node& node, const std::string& path, Listener& listener) {
    return read_mapping(node, path,
                        {{"name",
                          [&](const YAML::Node& v, const std::string& p) {
                            return assign(name(v, p), listener.name);
                          },
                          true},
                         {"address",
                          [&](const YAML::Node& v, const std::string& p) {
                            return assign(address(v, p, PortZero::kAllowed), listener.address);
                          },
                          true},
                         {"max_connection_age",
                          [&](const YAML::Node& v, const std::string& p) {
                            return assign(duration(v, p), listener.max_connection_age);
                          }},
                         {"max_connection_age_grace",
                          [&](const YAML::Node& v, const std::string& p) {
                            return assign(duration(v, p), listener.max_connection_age_grace);
                          }},
                         {"idle_timeout",
                          [&](const YAML::Node& v, const std::string& p) {
                            return assign(duration(v, p), listener.idle_timeout);
                          }},
                         {"keepalive_time",
                          [&](const YAML::Node& v, const std::string& p) {
                            return assign(duration(v, p), listener.keepalive_time);
                          }},
                         {"keepalive_timeout",
                          [&](const YAML::Node& v, const std::string& p) {
                            return assign(duration(v, p), listener.keepalive_timeout);
                          }},
                         {"max_connections", [&](const YAML::Node& v, const std::string& p) {
                            return assign(number(v, p, 0, 10000000), listener.max_connections);
                          }}});
  }

  MaybeError read_route(const YAML::Node& node, const std::string& path, Route& route) {
    return read_mapping(
        node, path,
        {{"match", [&](const YAML::Node& v,
                       const std::string& p) { return read_route_match(v, p, route.match); }},
         {"cluster",
          [&](const YAML::Node& v, const std::string& p) {
            return assign(name(v, p), route.cluster);
          },
          true},
         {"timeout", [&](const YAML::Node& v,
                         const std::string& p) { return assign(duration(v, p), route.timeout); }},
         {"max_timeout",
          [&](const YAML::Node& v, const std::string& p) {
            return assign(duration(v, p), route.max_timeout);
          }},
         {"service_config", [&](const YAML::Node& v, const std::string& p) -> MaybeError {
            if (auto error = read_service_config(v, p, where_, route.service_config.emplace())) {
              return error;
            }
            if (!route.service_config->retry_throttling) return std::nullopt;
            return error_at(v, p,
                            "retryThrottling belongs to the cluster's service_config (it counts "
                            "the failures of all the cluster's calls)");
          }}});
  }

  MaybeError read_route_match(const YAML::Node& node, const std::string& path, RouteMatch& match) {
    return read_mapping(
        node, path,
        {{"service",
          [&](const YAML::Node& v, const std::string& p) -> MaybeError {
            auto text = name(v, p);
            if (!text) return text.error();
            if (*text == "*") return std::nullopt;  // any service, stored as ""
            if (!is_service_name(*text)) {
              return error_at(v, p,
                              "invalid service name " + quoted(*text) +
                                  " (expected a fully qualified name such as pkg.v1.Service, or "
                                  "\"*\"; put the method in \"method\")");
            }
            match.service = *text;
            return std::nullopt;
          }},
         {"method",
          [&](const YAML::Node& v, const std::string& p) -> MaybeError {
            auto text = name(v, p);
            if (!text) return text.error();
            if (!is_method_name(*text)) {
              return error_at(v, p, "invalid method name " + quoted(*text));
            }
            match.method = *text;
            return std::nullopt;
          }},
         {"authority", [&](const YAML::Node& v, const std::string& p) -> MaybeError {
            auto text = name(v, p);
            if (!text) return text.error();
            if (!is_authority(*text)) return error_at(v, p, "invalid authority " + quoted(*text));
            match.authority = *text;
            return std::nullopt;
          }}});
  }

  MaybeError read_cluster(const YAML::Node& node, const std::string& path, Cluster& cluster) {
    return read_mapping(
        node, path,
        {{"name",
          [&](const YAML::Node& v, const std::string& p) {
            return assign(name(v, p), cluster.name);
          },
          true},
         {"policy", [&](const YAML::Node& v,
                        const std::string& p) { return read_policy(v, p, cluster.policy); }},
         {"subset",
          [&](const YAML::Node& v, const std::string& p) {
            return read_subset(v, p, cluster.subset.emplace());
          }},
         {"outlier_detection",
          [&](const YAML::Node& v, const std::string& p) {
            return read_outlier(v, p, cluster.outlier_detection.emplace());
          }},
         {"health_check",
          [&](const YAML::Node& v, const std::string& p) {
            return read_health_check(v, p, cluster.health_check.emplace());
          }},
         {"service_config",
          [&](const YAML::Node& v, const std::string& p) {
            return read_service_config(v, p, where_, cluster.service_config.emplace());
          }},
         {"retry_budget",
          [&](const YAML::Node& v, const std::string& p) {
            return read_retry_budget(v, p, cluster.retry_budget);
          }},
         {"circuit_breakers",
          [&](const YAML::Node& v, const std::string& p) {
            return read_circuit_breakers(v, p, cluster.circuit_breakers);
          }},
         {"endpoints",
          [&](const YAML::Node& v, const std::string& p) {
            return read_list(v, p, [&](const YAML::Node& item, const std::string& item_path) {
              return read_endpoint(item, item_path, cluster.endpoints.emplace_back());
            });
          }},
         {"discovery",
          [&](const YAML::Node& v, const std::string& p) {
            return read_discovery(v, p, cluster.discovery.emplace());
          }},
         {"max_connections_per_endpoint",
          [&](const YAML::Node& v, const std::string& p) {
            return assign(number(v, p, 1, kMaxConnectionsPerEndpoint),
                          cluster.max_connections_per_endpoint);
          }},
         {"max_pending_calls",
          [&](const YAML::Node& v, const std::string& p) {
            return assign(number(v, p, 0, kMaxPendingCalls), cluster.max_pending_calls);
          }},
         {"connect_timeout",
          [&](const YAML::Node& v, const std::string& p) {
            return assign(duration(v, p), cluster.connect_timeout);
          }},
         {"pending_timeout",
          [&](const YAML::Node& v, const std::string& p) {
            return assign(duration(v, p), cluster.pending_timeout);
          }},
         {"keepalive_time",
          [&](const YAML::Node& v, const std::string& p) {
            return assign(duration(v, p), cluster.keepalive_time);
          }},
         {"keepalive_timeout",
          [&](const YAML::Node& v, const std::string& p) {
            return assign(duration(v, p), cluster.keepalive_timeout);
          }},
         {"max_connection_age", [&](const YAML::Node& v, const std::string& p) {
            return assign(duration(v, p), cluster.max_connection_age);
          }}});
  }

  // `policy: NAME` or `policy: {name: NAME, option: value...}`; an option must belong to the
  // named policy, and ring_hash needs its hash_header.
  MaybeError read_policy(const YAML::Node& node, const std::string& path,
                         core::PolicyConfig& policy) {
    if (!node.IsMap()) {
      if (auto error = read_policy_name(node, path, policy)) return error;
      if (policy.kind != core::PolicyKind::kRingHash) return std::nullopt;
      return error_at(node, path,
                      "policy ring_hash needs hash_header: write policy: {name: ring_hash, "
                      "hash_header: x-user-id}");
    }
    std::vector<std::pair<std::string, core::PolicyKind>> options;  // option path, its policy
    auto option = [&](core::PolicyKind owner, FieldReader read) {
      return [&, owner, read](const YAML::Node& v, const std::string& p) -> MaybeError {
        options.emplace_back(p, owner);
        return read(v, p);
      };
    };
    using K = core::PolicyKind;
    if (auto error = read_mapping(
            node, path,
            {{"name",
              [&](const YAML::Node& v, const std::string& p) {
                return read_policy_name(v, p, policy);
              },
              true},
             {"choice_count", option(K::kLeastRequest,
                                     [&](const YAML::Node& v, const std::string& p) {
                                       return assign(number(v, p, 2, 10), policy.choice_count);
                                     })},
             {"active_request_bias",
              option(K::kLeastRequest,
                     [&](const YAML::Node& v, const std::string& p) -> MaybeError {
                       return assign(decimal(v, p, 0.0, 100.0), policy.active_request_bias);
                     })},
             {"decay", option(K::kPeakEwma,
                              [&](const YAML::Node& v, const std::string& p) {
                                return assign(duration(v, p), policy.decay);
                              })},
             {"default_rtt", option(K::kPeakEwma,
                                    [&](const YAML::Node& v, const std::string& p) {
                                      return assign(duration(v, p), policy.default_rtt);
                                    })},
             {"hash_header", option(K::kRingHash,
                                    [&](const YAML::Node& v, const std::string& p) {
                                      return read_header_name(v, p, policy.hash_header);
                                    })},
             {"min_ring_size", option(K::kRingHash,
                                      [&](const YAML::Node& v, const std::string& p) {
                                        return assign(number(v, p, 1, kMaxRingSize),
                                                      policy.min_ring_size);
                                      })},
             {"max_ring_size", option(K::kRingHash, [&](const YAML::Node& v, const std::string& p) {
                return assign(number(v, p, 1, kMaxRingSize), policy.max_ring_size);
              })}})) {
      return error;
    }
    for (const auto& [option_path, owner] : options) {
      if (owner != policy.kind) {
        return where_.error(option_path, "applies to policy " +
                                             std::string(core::policy_name(owner)) + ", not " +
                                             std::string(core::policy_name(policy.kind)));
      }
    }
    if (policy.kind == K::kRingHash && policy.hash_header.empty()) {
      return error_at(node, child_path(path, "hash_header"),
                      "policy ring_hash needs hash_header: the request header to hash on");
    }
    if (policy.min_ring_size > policy.max_ring_size) {
      return error_at(node, child_path(path, "min_ring_size"),
                      "must not be larger than max_ring_size");
    }
    return std::nullopt;
  }

  MaybeError read_policy_name(const YAML::Node& node, const std::string& path,
                              core::PolicyConfig& policy) {
    auto text = scalar(node, path);
    if (!text) return text.error();
    auto kind = core::policy_from_name(*text);
    if (!kind) {
      return error_at(node, path,
                      "unknown policy " + quoted(*text) + " (known: " + core::policy_names() + ")");
    }
    policy.kind = *kind;
    return std::nullopt;
  }

  // gRPC metadata keys: lower case letters, digits, "-", "_" and "."; pseudo-headers and
  // binary ("-bin") headers cannot be hashed on.
  MaybeError read_header_name(const YAML::Node& node, const std::string& path, std::string& out) {
    auto text = name(node, path);
    if (!text) return text.error();
    const bool valid = std::all_of(text->begin(), text->end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    });
    if (!valid || text->ends_with("-bin")) {
      return error_at(node, path,
                      "invalid header name " + quoted(*text) +
                          " (lower case letters, digits, -, _ and .; not a -bin header)");
    }
    out = *text;
    return std::nullopt;
  }

  MaybeError read_outlier(const YAML::Node& node, const std::string& path,
                          core::OutlierConfig& outlier) {
    // Field readers into one field each (the field's address, so the reader may outlive this).
    auto percent = [this](uint32_t& field) {
      return [this, out = &field](const YAML::Node& v, const std::string& p) {
        return assign(number(v, p, 0, 100), *out);
      };
    };
    auto count = [this](uint32_t& field) {
      return [this, out = &field](const YAML::Node& v, const std::string& p) {
        return assign(number(v, p, 0, 1000000), *out);
      };
    };
    auto time = [this](std::chrono::nanoseconds& field) {
      return [this, out = &field](const YAML::Node& v, const std::string& p) {
        return assign(duration(v, p), *out);
      };
    };
    return read_mapping(node, path,
                        {{"consecutive_failures", count(outlier.consecutive_failures)},
                         {"interval", time(outlier.interval)},
                         {"base_ejection_time", time(outlier.base_ejection_time)},
                         {"max_ejection_time", time(outlier.max_ejection_time)},
                         {"max_ejection_percent", percent(outlier.max_ejection_percent)},
                         {"failure_codes",
                          [&](const YAML::Node& v, const std::string& p) -> MaybeError {
                            outlier.failure_codes = 0;
                            return read_list(
                                v, p, [&](const YAML::Node& item, const std::string& ip) {
                                  return read_status_code(item, ip, outlier.failure_codes);
                                });
                          }},
                         {"success_rate",
                          [&](const YAML::Node& v, const std::string& p) {
                            auto& sr = outlier.success_rate.emplace();
                            return read_mapping(v, p,
                                                {{"stdev_factor", count(sr.stdev_factor)},
                                                 {"minimum_hosts", count(sr.minimum_hosts)},
                                                 {"request_volume", count(sr.request_volume)}});
                          }},
                         {"failure_percentage", [&](const YAML::Node& v, const std::string& p) {
                            auto& fp = outlier.failure_percentage.emplace();
                            return read_mapping(v, p,
                                                {{"threshold", percent(fp.threshold)},
                                                 {"minimum_hosts", count(fp.minimum_hosts)},
                                                 {"request_volume", count(fp.request_volume)}});
                          }}});
  }

  // A gRPC status by name as gRPC spells it (UNAVAILABLE): one bit in `codes`.
  // grpc.health.v1 checks (docs/configuration.md, Health checks).
  MaybeError read_health_check(const YAML::Node& node, const std::string& path,
                               core::HealthCheckConfig& health) {
    // Durations are positive; initial_jitter may also be 0 (no jitter).
    auto time = [this](std::chrono::milliseconds& field, bool zero_ok) {
      return
          [this, out = &field, zero_ok](const YAML::Node& v, const std::string& p) -> MaybeError {
            if (zero_ok && v.IsScalar() &&
                (v.Scalar() == "0" || v.Scalar() == "0s" || v.Scalar() == "0ms")) {
              *out = std::chrono::milliseconds(0);
              return std::nullopt;
            }
            auto d = duration(v, p);
            if (!d) return d.error();
            *out = *d;
            return std::nullopt;
          };
    };
    auto threshold = [this](uint32_t& field) {
      return [this, out = &field](const YAML::Node& v, const std::string& p) {
        return assign(number(v, p, 1, 1000), *out);
      };
    };
    return read_mapping(
        node, path,
        {{"service", [&](const YAML::Node& v,
                         const std::string& p) { return assign(scalar(v, p), health.service); }},
         {"interval", time(health.interval, false)},
         {"timeout", time(health.timeout, false)},
         {"no_traffic_interval", time(health.no_traffic_interval, false)},
         {"initial_jitter", time(health.initial_jitter, true)},
         {"unhealthy_threshold", threshold(health.unhealthy_threshold)},
         {"healthy_threshold", threshold(health.healthy_threshold)},
         {"initial_state",
          [&](const YAML::Node& v, const std::string& p) -> MaybeError {
            auto text = scalar(v, p);
            if (!text) return text.error();
            if (*text == "unknown" || *text == "healthy") {
              health.initial_state =
                  *text == "healthy" ? core::Health::kHealthy : core::Health::kUnknown;
              return std::nullopt;
            }
            return error_at(v, p, "must be unknown or healthy, got " + quoted(*text));
          }},
         {"panic_threshold", [&](const YAML::Node& v, const std::string& p) -> MaybeError {
            // 50 or "50%".
            auto text = scalar(v, p);
            if (!text) return text.error();
            std::string digits = *text;
            if (!digits.empty() && digits.back() == '%') digits.pop_back();
            auto value = parse_uint(digits);
            if (!value || *value > 100) {
              return error_at(
                  v, p, "must be a percentage from 0 to 100 (50 or 50%), got " + quoted(*text));
            }
            health.panic_threshold = static_cast<uint32_t>(*value);
            return std::nullopt;
          }}});
  }

  // retry_budget: {percent: 20, min_per_second: 10, window: 10s}; percent 0 and
  // min_per_second 0 send no retries at all.
  MaybeError read_retry_budget(const YAML::Node& node, const std::string& path,
                               core::RetryBudget::Options& budget) {
    return read_mapping(node, path,
                        {{"percent",
                          [&](const YAML::Node& v, const std::string& p) {
                            return assign(decimal(v, p, 0, 1000), budget.percent);
                          }},
                         {"min_per_second",
                          [&](const YAML::Node& v, const std::string& p) {
                            return assign(decimal(v, p, 0, 1e6), budget.min_per_second);
                          }},
                         {"window", [&](const YAML::Node& v, const std::string& p) {
                            return assign(duration(v, p), budget.window);
                          }}});
  }

  MaybeError read_circuit_breakers(const YAML::Node& node, const std::string& path,
                                   Cluster::CircuitBreakers& breakers) {
    return read_mapping(node, path,
                        {{"max_requests",
                          [&](const YAML::Node& v, const std::string& p) {
                            return assign(number(v, p, 1, kMaxBreakerLimit), breakers.max_requests);
                          }},
                         {"max_pending",
                          [&](const YAML::Node& v, const std::string& p) {
                            return assign(number(v, p, 0, kMaxBreakerLimit), breakers.max_pending);
                          }},
                         {"max_retries", [&](const YAML::Node& v, const std::string& p) {
                            return assign(number(v, p, 0, kMaxBreakerLimit), breakers.max_retries);
                          }}});
  }

  MaybeError read_subset(const YAML::Node& node, const std::string& path, Subset& subset) {
    if (auto error = read_mapping(
            node, path,
            {{"size",
              [&](const YAML::Node& v, const std::string& p) {
                return assign(number(v, p, 1, kMaxSubsetSize), subset.size);
              },
              true},
             {"mode",
              [&](const YAML::Node& v, const std::string& p) -> MaybeError {
                auto text = scalar(v, p);
                if (!text) return text.error();
                if (*text == "deterministic") {
                  subset.mode = core::SubsetMode::kDeterministic;
                } else if (*text == "rendezvous") {
                  subset.mode = core::SubsetMode::kRendezvous;
                } else {
                  return error_at(v, p,
                                  "unknown subset mode " + quoted(*text) +
                                      " (known: deterministic, rendezvous)");
                }
                return std::nullopt;
              }},
             {"client_id",
              [&](const YAML::Node& v, const std::string& p) {
                return assign(number_or_env(v, p, 0, kMaxClients - 1), subset.client_id.emplace());
              }},
             {"client_count",
              [&](const YAML::Node& v, const std::string& p) {
                return assign(number_or_env(v, p, 1, kMaxClients), subset.client_count);
              }},
             {"rotate_every", [&](const YAML::Node& v, const std::string& p) {
                return assign(duration(v, p), subset.rotate_every);
              }}})) {
      return error;
    }
    if (subset.mode == core::SubsetMode::kDeterministic) {
      if (!subset.client_id || subset.client_count == 0) {
        return error_at(node, path,
                        "mode deterministic needs client_id and client_count (e.g. client_id: "
                        "${POD_ORDINAL})");
      }
      if (*subset.client_id >= subset.client_count) {
        return where_.error(
            child_path(path, "client_id"),
            "must be below client_count (" + std::to_string(subset.client_count) + ")");
      }
    }
    return std::nullopt;
  }

  // An integer, or "${NAME}": the value of environment variable NAME (a StatefulSet ordinal,
  // say), which must be set and be an integer.
  Expected<uint64_t, ConfigError> number_or_env(const YAML::Node& node, const std::string& path,
                                                uint64_t min, uint64_t max) {
    auto text = scalar(node, path);
    if (!text) return Unexpected<ConfigError>(text.error());
    if (!text->starts_with("${") || !text->ends_with("}")) return number(node, path, min, max);
    const std::string var = text->substr(2, text->size() - 3);
    const char* value = var.empty() ? nullptr : std::getenv(var.c_str());
    if (value == nullptr) {
      return Unexpected<ConfigError>(
          error_at(node, path, "environment variable " + quoted(var) + " is not set"));
    }
    auto parsed = parse_uint(value);
    if (!parsed || *parsed < min || *parsed > max) {
      return Unexpected<ConfigError>(error_at(
          node, path,
          "environment variable " + quoted(var) + " must be an integer between " +
              std::to_string(min) + " and " + std::to_string(max) + ", got " + quoted(value)));
    }
    return *parsed;
  }

  MaybeError read_discovery(const YAML::Node& node, const std::string& path, Discovery& discovery) {
    return read_mapping(
        node, path,
        {{"type",
          [&](const YAML::Node& v, const std::string& p) -> MaybeError {
            auto text = scalar(v, p);
            if (!text) return text.error();
            if (*text != "file" && *text != "dns" && *text != "etcd") {
              return error_at(
                  v, p, "unknown discovery type " + quoted(*text) + " (known: file, dns, etcd)");
            }
            discovery.type = *text;
            return std::nullopt;
          },
          true},
         {"path", [&](const YAML::Node& v,
                      const std::string& p) { return assign(scalar(v, p), discovery.path); }},
         {"name",
          [&](const YAML::Node& v, const std::string& p) {
            return assign(address(v, p, PortZero::kRejected), discovery.name);
          }},
         {"server",
          [&](const YAML::Node& v, const std::string& p) {
            return assign(address(v, p, PortZero::kRejected), discovery.server.emplace());
          }},
         {"min_refresh",
          [&](const YAML::Node& v, const std::string& p) {
            return assign(duration(v, p), discovery.min_refresh);
          }},
         {"max_refresh",
          [&](const YAML::Node& v, const std::string& p) {
            return assign(duration(v, p), discovery.max_refresh);
          }},
         {"endpoints",
          [&](const YAML::Node& v, const std::string& p) {
            return read_list(v, p, [&](const YAML::Node& item, const std::string& ip) {
              return assign(address(item, ip, PortZero::kRejected),
                            discovery.etcd_endpoints.emplace_back());
            });
          }},
         {"prefix", [&](const YAML::Node& v, const std::string& p) {
            return assign(name(v, p), discovery.prefix);
          }}});
  }

  // An endpoint is "host:port" or a mapping {address: host:port, weight: N}.
  MaybeError read_endpoint(const YAML::Node& node, const std::string& path, Endpoint& endpoint) {
    if (node.IsMap()) {
      return read_mapping(node, path,
                          {{"address",
                            [&](const YAML::Node& v, const std::string& p) {
                              return assign(address(v, p, PortZero::kRejected), endpoint.address);
                            },
                            true},
                           {"weight", [&](const YAML::Node& v, const std::string& p) {
                              return assign(number(v, p, 1, kMaxWeight), endpoint.weight);
                            }}});
    }
    return assign(address(node, path, PortZero::kRejected), endpoint.address);
  }
};

}  // namespace

Expected<Config, ConfigError> read_config(const YAML::Node& root, Locations& where) {
  return Reader(where).read(root);
}

}  // namespace sluice::config
