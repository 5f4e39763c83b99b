// Where a byte stream stands in gRPC's length-prefixed messages (1 flag byte, 4-byte big-endian
// length, the message). The proxy feeds it the response bytes it passed on, so it knows
// whether the client has seen whole messages only, and trailers may still end the stream.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sluice::wire {

class MessageFraming {
 public:
  // The next `n` bytes of the stream, in order.
  void advance(const uint8_t* data, size_t n);
  // Every message begun was also finished (true before the first byte).
  bool at_boundary() const { return prefix_have_ == 0 && body_left_ == 0; }
  uint64_t messages() const { return messages_; }

 private:
  uint8_t prefix_[5] = {};
  size_t prefix_have_ = 0;
  uint64_t body_left_ = 0;
  uint64_t messages_ = 0;  // messages whose last byte went by
};

}  // namespace sluice::wire
