#include "load/tally.h"

namespace sluice::load {

void Tally::add(wire::StatusCode status, uint64_t latency, std::string_view backend) {
  ++calls;
  ++by_status[static_cast<size_t>(status)];
  latency_ns.record(latency);
  auto it = by_backend.find(backend);
  if (it == by_backend.end()) it = by_backend.emplace(std::string(backend), 0).first;
  ++it->second;
}

void Tally::merge(const Tally& other) {
  calls += other.calls;
  for (size_t i = 0; i < by_status.size(); ++i) by_status[i] += other.by_status[i];
  for (const auto& [backend, n] : other.by_backend) by_backend[backend] += n;
  latency_ns.merge(other.latency_ns);
}

}  // namespace sluice::load
