// Loads exactly one YAML document, turning yaml-cpp's exceptions into a ConfigError.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string_view>

#include "base/expected.h"
#include "config/config.h"

namespace sluice::config {

// A second document (after "---") is an error rather than silently ignored. An empty input gives
// a null node. Never throws.
Expected<YAML::Node, ConfigError> load_single_document(std::string_view yaml,
                                                       std::string_view file);

// The 1-based position of `mark` as an error in `file`; line 0 for yaml-cpp's null mark.
ConfigError error_at_mark(std::string_view file, const YAML::Mark& mark, std::string message);

}  // namespace sluice::config
