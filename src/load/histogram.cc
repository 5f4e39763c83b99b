#include "load/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace sluice::load {
namespace {

constexpr uint64_t kSub = uint64_t{1} << Histogram::kSubBucketBits;  // sub-buckets per octave
// Values below 2 * kSub have a bucket each; above, octave `shift` (value >> shift in
// [kSub, 2 * kSub)) takes buckets shift * kSub + (value >> shift).
constexpr size_t kBuckets = (64 - Histogram::kSubBucketBits - 1) * kSub + 2 * kSub;

}  // namespace

Histogram::Histogram() : counts_(kBuckets, 0) {}

size_t Histogram::bucket_of(uint64_t value) {
  if (value < 2 * kSub) return value;
  const unsigned shift = std::bit_width(value) - 1 - kSubBucketBits;
  return shift * kSub + (value >> shift);
}

uint64_t Histogram::lowest_in(size_t bucket) {
  if (bucket < 2 * kSub) return bucket;
  const uint64_t shift = bucket / kSub - 1;
  const uint64_t sub = bucket - shift * kSub;
  return sub << shift;
}

uint64_t Histogram::highest_in(size_t bucket) {
  if (bucket < 2 * kSub) return bucket;
  const uint64_t shift = bucket / kSub - 1;
  const uint64_t sub = bucket - shift * kSub;
  // The last bucket's upper edge is UINT64_MAX itself: ((sub + 1) << shift) would wrap to 0.
  return ((sub + 1) << shift) - 1;
}

void Histogram::record(uint64_t value) {
  ++counts_[bucket_of(value)];
  ++count_;
  sum_ += value;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
}

void Histogram::merge(const Histogram& other) {
  if (other.count_ == 0) return;
  for (size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void Histogram::reset() { *this = Histogram(); }

uint64_t Histogram::percentile(double percent) const {
  if (count_ == 0) return 0;
  if (percent <= 0) return min_;
  const double clamped = std::min(percent, 100.0);
  // The rank of the value asked for, 1-based: at least one value.
  const auto rank = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::ceil(clamped / 100.0 * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(highest_in(i), min_, max_);
  }
  return max_;
}

}  // namespace sluice::load
