// Parses command-line durations such as "500ms", "2s", "1.5m", "1h" (and "0").
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "base/expected.h"

namespace sluice::testserver {

Expected<std::chrono::milliseconds, std::string> parse_duration(std::string_view text);

}  // namespace sluice::testserver
