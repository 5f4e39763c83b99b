// Turns a parsed YAML document into a Config, checking each field on its own: known keys, types,
// value syntax and ranges. Rules that relate fields to each other are in validate.h.
#pragma once

#include <yaml-cpp/yaml.h>

#include "base/expected.h"
#include "config/config.h"
#include "config/locations.h"

namespace sluice::config {

// Records the position of every field it reads into `where`. May throw YAML::Exception on
// malformed nodes; parse_config_string catches at the public boundary.
Expected<Config, ConfigError> read_config(const YAML::Node& root, Locations& where);

}  // namespace sluice::config
