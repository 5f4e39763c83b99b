#include "core/endpoint_load.h"

#include <cmath>
#include <utility>

namespace sluice::core {
namespace {

// exp(-elapsed/decay); a zero decay means "no memory": the weight of the past is 0.
double decay_weight(Nanos elapsed, Nanos decay) {
  if (decay.count() <= 0) return 0.0;
  if (elapsed.count() <= 0) return 1.0;
  return std::exp(-static_cast<double>(elapsed.count()) / static_cast<double>(decay.count()));
}

}  // namespace

void PeakEwma::observe(Nanos rtt, Nanos now, Nanos decay) {
  const double sample = static_cast<double>(rtt.count() > 0 ? rtt.count() : 0);
  if (!has_sample_ || sample > estimate_ns_) {
    estimate_ns_ = sample;
  } else {
    const double w = decay_weight(now - stamp_, decay);
    estimate_ns_ = estimate_ns_ * w + sample * (1.0 - w);
  }
  stamp_ = now;
  has_sample_ = true;
}

void PeakEwma::observe_at_least(Nanos rtt, Nanos now, Nanos decay) {
  if (has_sample_ && static_cast<double>(rtt.count()) > estimate_ns(now, decay, Nanos{0})) {
    estimate_ns_ = static_cast<double>(rtt.count());
    stamp_ = now;
  }
}

double PeakEwma::estimate_ns(Nanos now, Nanos decay, Nanos cold) const {
  if (!has_sample_) return static_cast<double>(cold.count());
  return estimate_ns_ * decay_weight(now - stamp_, decay);
}

CallTracker::CallTracker(EndpointLoad* load, Nanos now, Nanos decay)
    : load_(load), started_(now), decay_(decay) {
  if (!load_) return;
  ++load_->in_flight;
  ++load_->started;
}

CallTracker::CallTracker(CallTracker&& other) noexcept
    : load_(std::exchange(other.load_, nullptr)),
      started_(other.started_),
      decay_(other.decay_),
      sampled_(other.sampled_) {}

CallTracker& CallTracker::operator=(CallTracker&& other) noexcept {
  if (this != &other) {
    release();
    load_ = std::exchange(other.load_, nullptr);
    started_ = other.started_;
    decay_ = other.decay_;
    sampled_ = other.sampled_;
  }
  return *this;
}

CallTracker::~CallTracker() { release(); }

void CallTracker::on_response_headers(Nanos now) {
  if (!load_ || sampled_) return;
  sampled_ = true;
  load_->rtt.observe(now - started_, now, decay_);
}

void CallTracker::finish(Nanos now) {
  if (!load_) return;
  on_response_headers(now);
  release();
}

void CallTracker::finish_unanswered(Nanos now) {
  if (!load_) return;
  if (!sampled_) load_->rtt.observe_at_least(now - started_, now, decay_);
  release();
}

// Without a sample: a call abandoned before any answer says nothing about the endpoint's speed.
void CallTracker::release() {
  if (!load_) return;
  --load_->in_flight;
  ++load_->finished;
  load_ = nullptr;
}

}  // namespace sluice::core
