// `service_config:` on a cluster or route: a gRPC service config, as the JSON text users give
// grpc's WithDefaultServiceConfig (a YAML string, usually a block scalar) or the same structure
// written as YAML. gRPC's own field names; what sluice does not implement is an error, not
// silently ignored. Errors point at the line of the JSON inside the YAML file.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>

#include "config/config.h"
#include "config/locations.h"
#include "core/service_config.h"

namespace sluice::config {

std::optional<ConfigError> read_service_config(const YAML::Node& node, const std::string& path,
                                               Locations& where, core::ServiceConfig& out);

}  // namespace sluice::config
