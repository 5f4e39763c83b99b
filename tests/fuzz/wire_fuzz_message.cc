// grpc-message percent-encoding: encode yields only printable ASCII and decodes back to the
// input; decoding arbitrary (possibly malformed) text never crashes nor grows it.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http2/grpc/status.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto encoded = sluice::wire::percent_encode_message(input);
  for (char c : encoded) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7E) {
      std::abort();
    }
  }
  if (sluice::wire::percent_decode_message(encoded) != input) std::abort();
  if (sluice::wire::percent_decode_message(input).size() > size) std::abort();
  (void)sluice::wire::parse_grpc_status(input);
  return 0;
}
