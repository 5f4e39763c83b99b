// grpc-timeout: parsing never crashes; whatever parses, and any duration formatted, survives a
// round trip without being shortened.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "http2/grpc/timeout.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using std::chrono::nanoseconds;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto parsed = sluice::wire::parse_grpc_timeout(input);
  if (parsed.has_value()) {
    if (size < 2 || size > 9 || parsed.value() < nanoseconds(0)) std::abort();
    const auto again = sluice::wire::parse_grpc_timeout(sluice::wire::format_grpc_timeout(*parsed));
    if (!again.has_value() || again.value() < parsed.value()) std::abort();
  }
  if (size >= sizeof(int64_t)) {
    int64_t raw;
    std::memcpy(&raw, data, sizeof raw);
    const auto formatted = sluice::wire::format_grpc_timeout(nanoseconds(raw));
    const auto back = sluice::wire::parse_grpc_timeout(formatted);
    if (!back.has_value() || formatted.size() > 9) std::abort();
    if (raw > 0 && back.value() < nanoseconds(raw)) std::abort();
  }
  return 0;
}
