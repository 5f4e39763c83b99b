#include <cstddef>
#include <cstdint>
#include <string_view>

#include "discovery/endpoints_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = sluice::discovery::parse_endpoints_file(text);
  if (parsed) {
    for (const auto& e : *parsed) {
      if (e.address.port == 0 || e.weight == 0) __builtin_trap();  // promised never to pass
    }
  }
  return 0;
}
