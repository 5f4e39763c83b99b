// Helpers for the config tests: parse inline YAML and get the config or the error.
#pragma once

#include <string>
#include <string_view>

#include "config/config.h"

namespace sluice::config::testing {

inline constexpr std::string_view kTestFile = "test.yaml";

// Inline YAML in tests starts with a newline after R"( so that line 1 is the first real line.
std::string_view without_leading_newline(std::string_view yaml);

// Parses `yaml` as "test.yaml"; fails the test (and returns a default Config) on an error.
Config parse_ok(std::string_view yaml);

// Parses `yaml` as "test.yaml"; fails the test (and returns a default error) if it parses.
ConfigError parse_error(std::string_view yaml);

}  // namespace sluice::config::testing
