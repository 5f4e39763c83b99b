// Rules that relate fields to each other: at least one listener and cluster, unique names and
// addresses, routes pointing at existing clusters. Runs after read_config.
#pragma once

#include <optional>

#include "config/config.h"
#include "config/locations.h"

namespace sluice::config {

// Checks `config` and completes it: with no routes and exactly one cluster, adds the implicit
// catch-all route to that cluster. Errors point at the positions recorded in `where`.
std::optional<ConfigError> validate(Config& config, const Locations& where);

}  // namespace sluice::config
