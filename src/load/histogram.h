// A latency histogram in the HDR style: each power of two is split into 128 linear
// sub-buckets, so every recorded value is known to within 1/128 (0.8%) across the whole
// uint64 range, in fixed memory, and histograms from several threads merge by adding counts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sluice::load {

class Histogram {
 public:
  Histogram();

  void record(uint64_t value);
  void merge(const Histogram& other);
  void reset();

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ == 0 ? 0.0 : static_cast<double>(sum_) / count_; }
  // The smallest recorded value v such that at least `percent`% of the values are <= v, to
  // within the bucket width (the bucket's upper edge, never above max()). 0 -> min().
  uint64_t percentile(double percent) const;

  // Bucket math, public for the tests.
  static constexpr unsigned kSubBucketBits = 7;
  static size_t bucket_of(uint64_t value);
  static uint64_t lowest_in(size_t bucket);
  static uint64_t highest_in(size_t bucket);

 private:
  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
  // Wraps only past 584 years of nanoseconds summed: fine for a load run.
  uint64_t sum_ = 0;
};

}  // namespace sluice::load
