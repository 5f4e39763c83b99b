#include "duration.h"

#include <charconv>
#include <cmath>

namespace sluice::testserver {

Expected<std::chrono::milliseconds, std::string> parse_duration(std::string_view text) {
  auto bad = [&] {
    return Unexpected<std::string>("invalid duration '" + std::string(text) +
                                   "' (want e.g. 500ms, 2s, 1m, 1h)");
  };
  double number = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc() || !std::isfinite(number) || number < 0) return bad();
  const std::string_view unit(end, text.data() + text.size() - end);
  double ms_per_unit = 0;
  if (unit == "ms") {
    ms_per_unit = 1;
  } else if (unit == "s") {
    ms_per_unit = 1e3;
  } else if (unit == "m") {
    ms_per_unit = 60e3;
  } else if (unit == "h") {
    ms_per_unit = 3600e3;
  } else if (unit.empty() && number == 0) {
    return std::chrono::milliseconds(0);
  } else {
    return bad();
  }
  const double ms = std::round(number * ms_per_unit);
  if (ms > static_cast<double>(INT32_MAX)) return bad();  // grpc takes int milliseconds
  return std::chrono::milliseconds(static_cast<int64_t>(ms));
}

}  // namespace sluice::testserver
