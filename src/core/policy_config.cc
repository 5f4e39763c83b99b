#include "core/policy_config.h"

#include <array>
#include <utility>

namespace sluice::core {
namespace {

constexpr std::array<std::pair<PolicyKind, std::string_view>, 7> kNames = {{
    {PolicyKind::kRoundRobin, "round_robin"},
    {PolicyKind::kWeightedRoundRobin, "weighted_round_robin"},
    {PolicyKind::kLeastRequest, "least_request"},
    {PolicyKind::kPeakEwma, "peak_ewma"},
    {PolicyKind::kRingHash, "ring_hash"},
    {PolicyKind::kRandom, "random"},
    {PolicyKind::kPickFirst, "pick_first"},
}};

}  // namespace

std::string_view policy_name(PolicyKind kind) {
  for (const auto& [k, name] : kNames) {
    if (k == kind) return name;
  }
  return "unknown";
}

std::optional<PolicyKind> policy_from_name(std::string_view name) {
  for (const auto& [k, n] : kNames) {
    if (n == name) return k;
  }
  return std::nullopt;
}

std::string policy_names() {
  std::string out;
  for (const auto& [k, name] : kNames) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

}  // namespace sluice::core
