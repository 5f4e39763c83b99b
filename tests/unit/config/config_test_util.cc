#include "config_test_util.h"

#include <gtest/gtest.h>

namespace sluice::config::testing {

std::string_view without_leading_newline(std::string_view yaml) {
  if (!yaml.empty() && yaml.front() == '\n') yaml.remove_prefix(1);
  return yaml;
}

Config parse_ok(std::string_view yaml) {
  auto config = parse_config_string(without_leading_newline(yaml), kTestFile);
  if (!config) {
    ADD_FAILURE() << "unexpected error: " << config.error().to_string();
    return Config{};
  }
  return *config;
}

ConfigError parse_error(std::string_view yaml) {
  auto config = parse_config_string(without_leading_newline(yaml), kTestFile);
  if (config) {
    ADD_FAILURE() << "parsed, but an error was expected";
    return ConfigError{};
  }
  EXPECT_EQ(config.error().file, kTestFile);
  return config.error();
}

}  // namespace sluice::config::testing
