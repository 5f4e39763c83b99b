// Which balancing policy a cluster uses, and its options: read by src/config, turned into
// pickers by make_picker. Plain data, so the config and the client library share it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::core {

enum class PolicyKind {
  kRoundRobin,
  kWeightedRoundRobin,
  kLeastRequest,
  kPeakEwma,
  kRingHash,
  kRandom,
  kPickFirst,
};

struct PolicyConfig {
  PolicyKind kind = PolicyKind::kRoundRobin;
  // least_request: candidates per pick, and how much in-flight calls count against weight.
  uint32_t choice_count = 2;
  double active_request_bias = 1.0;
  // peak_ewma: how fast old round trips are forgotten, and the guess for a cold endpoint.
  std::chrono::nanoseconds decay = std::chrono::seconds(10);
  std::chrono::nanoseconds default_rtt = std::chrono::milliseconds(30);
  // ring_hash: the request header whose value is the key (lower case), and ring bounds.
  std::string hash_header;
  uint64_t min_ring_size = 1024;
  uint64_t max_ring_size = 8u << 20;
  bool operator==(const PolicyConfig&) const = default;
};

std::string_view policy_name(PolicyKind kind);
std::optional<PolicyKind> policy_from_name(std::string_view name);
// "round_robin, weighted_round_robin, ..." for error messages.
std::string policy_names();

}  // namespace sluice::core
