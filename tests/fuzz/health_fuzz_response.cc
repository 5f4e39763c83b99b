// HealthCheckResponse streams as a backend may send them: the reader never crashes, and reads
// the same statuses (or fails the same way) however the bytes are split.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "health/health_wire.h"

namespace {

std::vector<int> statuses(const uint8_t* data, size_t size, size_t chunk, bool& failed) {
  sluice::health::ResponseReader reader;
  std::vector<int> out;
  failed = false;
  for (size_t at = 0; at < size && !failed; at += chunk) {
    const size_t n = std::min(chunk, size - at);
    failed = !reader.feed(data + at, n);
    while (reader.has_status()) out.push_back(static_cast<int>(reader.pop_status()));
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  bool failed_whole = false, failed_bytes = false;
  const auto whole = statuses(data, size, size == 0 ? 1 : size, failed_whole);
  const auto bytes = statuses(data, size, 1, failed_bytes);
  if (failed_whole != failed_bytes) std::abort();
  if (!failed_whole && whole != bytes) std::abort();
  for (int s : whole) {
    if (s < 0 || s > 3) std::abort();
  }
  (void)sluice::health::parse_response(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
