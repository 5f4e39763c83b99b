// :path parsing: never crashes, and an accepted path is exactly "/" service "/" method with
// neither part empty nor containing a slash.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http2/grpc/path.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto parsed = sluice::wire::parse_method_path(input);
  if (!parsed.has_value()) return 0;
  const auto& [service, method] = *parsed;
  if (service.empty() || method.empty()) std::abort();
  if (service.find('/') != std::string_view::npos) std::abort();
  if (method.find('/') != std::string_view::npos) std::abort();
  if ("/" + std::string(service) + "/" + std::string(method) != input) std::abort();
  return 0;
}
