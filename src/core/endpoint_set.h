// Cluster membership as an immutable snapshot: built on the control thread, shared read-only by
// every worker (shared_ptr<const EndpointSet>), replaced as a whole when membership changes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sluice::core {

struct Endpoint {
  std::string address;  // "host:port", also the endpoint's identity
  uint32_t weight = 1;
  bool operator==(const Endpoint&) const = default;
};

struct EndpointSet {
  uint64_t version = 0;
  std::vector<Endpoint> endpoints;
};

using EndpointSetPtr = std::shared_ptr<const EndpointSet>;

}  // namespace sluice::core
