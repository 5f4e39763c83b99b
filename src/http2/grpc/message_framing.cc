#include "http2/grpc/message_framing.h"

#include <algorithm>

namespace sluice::wire {

void MessageFraming::advance(const uint8_t* data, size_t n) {
  while (n > 0) {
    if (body_left_ > 0) {  // inside a message: skip its body without looking at it
      const size_t take = static_cast<size_t>(std::min<uint64_t>(body_left_, n));
      body_left_ -= take;
      data += take;
      n -= take;
      if (body_left_ == 0) ++messages_;
      continue;
    }
    prefix_[prefix_have_++] = *data++;
    --n;
    if (prefix_have_ < sizeof prefix_) continue;
    prefix_have_ = 0;
    body_left_ = (uint64_t{prefix_[1]} << 24) | (uint64_t{prefix_[2]} << 16) |
                 (uint64_t{prefix_[3]} << 8) | prefix_[4];
    if (body_left_ == 0) ++messages_;  // an empty message ends with its prefix
  }
}

}  // namespace sluice::wire
