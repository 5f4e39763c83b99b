// grpc-retry-pushback-ms: parsing never crashes, and a delay is only ever what the digits say.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http2/grpc/retry_pushback.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto parsed = sluice::wire::parse_retry_pushback(input);
  if (!parsed) std::abort();  // present, so always an answer
  if (parsed->retry) {
    if (size == 0 || size > 10 || parsed->delay.count() < 0) std::abort();
    for (char c : input) {
      if (c < '0' || c > '9') std::abort();
    }
  } else if (parsed->delay.count() != 0) {
    std::abort();
  }
  return 0;
}
