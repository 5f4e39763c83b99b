// gRPC message framing: any byte stream, fed whole or split at any point, gives the same
// message count and boundary state; nothing crashes.
#include <cstdint>
#include <cstdlib>

#include "http2/grpc/message_framing.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sluice::wire::MessageFraming whole, split;
  whole.advance(data, size);
  const size_t cut = size == 0 ? 0 : data[0] % (size + 1);
  split.advance(data, cut);
  split.advance(data + cut, size - cut);
  if (whole.messages() != split.messages() || whole.at_boundary() != split.at_boundary()) {
    std::abort();
  }
  return 0;
}
