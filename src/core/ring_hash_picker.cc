#include "core/ring_hash_picker.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <string>
#include <utility>

#include "core/hash.h"

namespace sluice::core {
namespace {

// Points per unit of weight: enough for the lightest endpoint to get its share of
// min_ring_size (gRPC A42), rounded up to a power of two. The rounding keeps that number the
// same when one endpoint joins or leaves (unless the count crosses a power of two), so the
// other endpoints keep their points and only the keys of the one that changed move.
double points_per_weight(const std::vector<Endpoint>& eps, const PolicyConfig& config,
                         double total) {
  uint32_t lightest = eps[0].weight;
  for (const Endpoint& e : eps) lightest = std::min(lightest, e.weight);
  lightest = std::max<uint32_t>(lightest, 1);
  const double min_share = lightest / total;
  const auto base =
      static_cast<uint64_t>(std::ceil(min_share * static_cast<double>(config.min_ring_size)));
  double per_weight = static_cast<double>(std::bit_ceil(std::max<uint64_t>(base, 1))) / lightest;
  if (per_weight * total > static_cast<double>(config.max_ring_size)) {
    per_weight = static_cast<double>(config.max_ring_size) / total;  // capped: shares still hold
  }
  return per_weight;
}

}  // namespace

RingHashPicker::RingHashPicker(EndpointSetPtr set, const PolicyConfig& config, Random& random)
    : set_(std::move(set)), count_(set_ ? set_->endpoints.size() : 0), random_(random) {
  if (count_ == 0) return;
  const auto& eps = set_->endpoints;
  double total = 0;
  for (const Endpoint& e : eps) total += std::max<uint32_t>(e.weight, 1);
  const double per_weight = points_per_weight(eps, config, total);
  ring_.reserve(static_cast<size_t>(per_weight * total) + count_);
  // Cumulative rounding when capped: no endpoint loses its share to truncation, and every
  // endpoint gets at least one point.
  double target = 0;
  size_t placed = 0;
  for (size_t i = 0; i < count_; ++i) {
    target += per_weight * std::max<uint32_t>(eps[i].weight, 1);
    const auto rounded = static_cast<size_t>(std::llround(target));
    const size_t points = rounded > placed ? rounded - placed : 1;
    const std::string& address = eps[i].address;
    for (size_t k = 0; k < points; ++k) {
      ring_.push_back({stable_hash(address + "_" + std::to_string(k)), i});
    }
    placed += points;
  }
  std::sort(ring_.begin(), ring_.end(), [](const Point& a, const Point& b) {
    return a.hash != b.hash ? a.hash < b.hash : a.index < b.index;
  });
  // About one point per bucket.
  bucket_bits_ = std::clamp(static_cast<int>(std::bit_width(ring_.size())), 1, 24);
  const size_t buckets = size_t{1} << bucket_bits_;
  bucket_.resize(buckets + 1);
  size_t at = 0;
  for (size_t b = 0; b < buckets; ++b) {
    while (at < ring_.size() && (ring_[at].hash >> (64 - bucket_bits_)) < b) ++at;
    bucket_[b] = static_cast<uint32_t>(at);
  }
  bucket_[buckets] = static_cast<uint32_t>(ring_.size());
}

size_t RingHashPicker::first_at_or_after(uint64_t hash) const {
  const size_t b = hash >> (64 - bucket_bits_);
  auto from = ring_.begin() + bucket_[b];
  auto to = ring_.begin() + bucket_[b + 1];
  auto it = std::lower_bound(from, to, hash, [](const Point& p, uint64_t h) { return p.hash < h; });
  return it == ring_.end() ? 0 : static_cast<size_t>(it - ring_.begin());
}

PickResult RingHashPicker::pick(const PickContext& context) {
  if (count_ == 0) return PickFail{"no endpoints"};
  if (!context.hash) {
    return PickComplete{first_untried(random_.below(count_), count_, context.tried)};
  }
  size_t at = first_at_or_after(*context.hash);
  const size_t home = ring_[at].index;
  if (context.tried.size() == 0) return PickComplete{home};
  // Walk on to the next distinct untried endpoint; back home when every one was tried.
  for (size_t step = 0; step < ring_.size(); ++step, at = at + 1 == ring_.size() ? 0 : at + 1) {
    if (!context.tried.contains(ring_[at].index)) return PickComplete{ring_[at].index};
  }
  return PickComplete{home};
}

}  // namespace sluice::core
