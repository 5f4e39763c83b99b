#include "core/p2c_pickers.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace sluice::core {

P2cPicker::P2cPicker(EndpointSetPtr set, LoadTable loads, uint32_t choice_count, Random& random)
    : set_(std::move(set)),
      loads_(std::move(loads)),
      count_(set_ ? set_->endpoints.size() : 0),
      choices_(std::clamp<uint32_t>(choice_count, 2, 10)),
      random_(random) {
  if (loads_.size() < count_) loads_.resize(count_);
  for (auto& load : loads_) {
    if (!load) load = std::make_shared<EndpointLoad>();  // a caller without state still works
  }
  weight_.reserve(count_);
  for (const auto& e : set_ ? set_->endpoints : std::vector<Endpoint>{}) {
    weight_.push_back(static_cast<double>(std::max<uint32_t>(e.weight, 1)));
  }
}

// Distinct untried indices into `out` (room for 10); returns how many. Draws with rejection:
// with few endpoints tried that ends fast; when most are tried, a scan collects the rest.
size_t P2cPicker::sample(const TriedSet& tried, size_t* out) {
  if (tried.size() == 0 && choices_ == 2 && count_ > 2) {
    out[0] = random_.below(count_);
    out[1] = random_.below(count_ - 1);
    if (out[1] >= out[0]) ++out[1];
    return 2;
  }
  size_t n = 0;
  auto taken = [&](size_t index) { return std::find(out, out + n, index) != out + n; };
  if (count_ > 2 * (choices_ + tried.size())) {
    for (int attempt = 0; n < choices_ && attempt < 64; ++attempt) {
      const size_t index = random_.below(count_);
      if (!tried.contains(index) && !taken(index)) out[n++] = index;
    }
    if (n == choices_) return n;
  }
  // Small sets (or unlucky draws): every untried endpoint, from a random start, up to the limit.
  const size_t start = random_.below(count_);
  for (size_t i = 0; i < count_ && n < choices_; ++i) {
    const size_t index = (start + i) % count_;
    if (!tried.contains(index) && !taken(index)) out[n++] = index;
  }
  return n;
}

PickResult P2cPicker::pick(const PickContext& context) {
  if (count_ == 0) return PickFail{"no endpoints"};
  size_t candidates[10];
  size_t n = sample(context.tried, candidates);
  if (n == 0) {  // every endpoint tried: a retry may go back to one rather than fail
    candidates[0] = random_.below(count_);
    n = 1;
  }
  size_t best = candidates[0];
  double best_cost = cost(best, context.now);
  for (size_t i = 1; i < n; ++i) {
    const double c = cost(candidates[i], context.now);
    if (c < best_cost) {
      best = candidates[i];
      best_cost = c;
    }
  }
  return PickComplete{best};
}

LeastRequestPicker::LeastRequestPicker(EndpointSetPtr set, LoadTable loads,
                                       const PolicyConfig& config, Random& random)
    : P2cPicker(std::move(set), std::move(loads), config.choice_count, random),
      bias_(config.active_request_bias) {}

double LeastRequestPicker::cost(size_t index, Nanos) const {
  const double active = static_cast<double>(loads_[index]->in_flight) + 1.0;
  if (bias_ == 1.0) return active / weight_[index];
  if (bias_ == 0.0) return 1.0 / weight_[index];
  return std::pow(active, bias_) / weight_[index];
}

PeakEwmaPicker::PeakEwmaPicker(EndpointSetPtr set, LoadTable loads, const PolicyConfig& config,
                               Random& random)
    : P2cPicker(std::move(set), std::move(loads), config.choice_count, random),
      decay_(config.decay),
      default_rtt_(config.default_rtt) {}

double PeakEwmaPicker::cost(size_t index, Nanos now) const {
  const EndpointLoad& load = *loads_[index];
  const double rtt = load.rtt.estimate_ns(now, decay_, default_rtt_);
  return rtt * (static_cast<double>(load.in_flight) + 1.0) / weight_[index];
}

}  // namespace sluice::core
