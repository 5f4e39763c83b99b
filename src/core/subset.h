// Subsetting: each client connects to only `size` endpoints of a large cluster, so that
// clients x backends does not become the connection count. Weights are ignored here: a subset
// decides who a client may talk to; weighting happens later, inside the chosen subset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/endpoint_set.h"

namespace sluice::core {

enum class SubsetMode {
  // Google SRE book ch. 20: clients with dense ids share out shuffled "rounds" of the
  // endpoints, so connections per endpoint differ by at most one, for any client count (when
  // size does not divide the endpoint count and it is below 2 x size, by a few more). Any
  // membership change reshuffles every subset.
  kDeterministic,
  // Rendezvous hashing (gRPC A68 style): the `size` endpoints with the highest hash of
  // (address, client, rotation). Adding or removing one endpoint changes at most one entry of
  // any client's subset; balance is only statistical.
  kRendezvous,
};

struct SubsetParams {
  size_t size = 0;  // endpoints per client; 0 or >= endpoint count = all of them
  SubsetMode mode = SubsetMode::kRendezvous;
  uint64_t client_id = 0;     // deterministic: dense id in [0, client_count); rendezvous: any seed
  uint64_t client_count = 0;  // deterministic only (>= 1); ids at or beyond it wrap around
  uint64_t rotation = 0;      // rotation epoch: 0 at start; each increment = a fresh subset
};

// Indices into `endpoints` of this client's subset, ascending. Pure and host-independent:
// the same endpoints (in any order) and params give the same addresses on every machine.
// Addresses are the endpoints' identity and should be unique.
std::vector<size_t> choose_subset(std::span<const Endpoint> endpoints, const SubsetParams& params);

}  // namespace sluice::core
