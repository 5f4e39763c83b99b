// Consistent hashing on a request header (Ketama ring, as gRPC A42 and Envoy): each endpoint
// owns points on a 64-bit ring in proportion to its weight; a key goes to the first point at or
// after its hash. Adding one of N endpoints moves about 1/N of the keys, all to the newcomer
// (points per weight are rounded to a power of two, see ring_hash_picker.cc). A call without the
// header gets a random endpoint; a retry walks on along the ring to the next untried endpoint.
#pragma once

#include <cstdint>
#include <vector>

#include "core/picker.h"

namespace sluice::core {

class RingHashPicker final : public Picker {
 public:
  RingHashPicker(EndpointSetPtr set, const PolicyConfig& config, Random& random);
  using Picker::pick;
  PickResult pick(const PickContext& context) override;
  size_t ring_size() const { return ring_.size(); }

 private:
  struct Point {
    uint64_t hash;
    size_t index;
  };
  // The first point at or after `hash`: a bucket of the hash's top bits narrows the search
  // to a few points, so a pick stays fast on rings of millions of points.
  size_t first_at_or_after(uint64_t hash) const;

  EndpointSetPtr set_;
  std::vector<Point> ring_;  // sorted by hash
  // bucket_[b] = index of the first point whose hash's top `bucket_bits_` bits are >= b.
  std::vector<uint32_t> bucket_;
  int bucket_bits_ = 0;
  size_t count_;
  Random& random_;
};

}  // namespace sluice::core
