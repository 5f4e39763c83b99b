// Per-endpoint load state that pickers learn from, and the per-call tracker that feeds it.
// One EndpointLoad per endpoint per worker: it lives outside the immutable EndpointSet and
// survives snapshot changes for endpoints that stay (the owner keeps it by address), so a
// membership change does not forget who is slow. Single-threaded: only its worker touches it.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

namespace sluice::core {

// Time as nanoseconds on a monotonic clock; the caller injects "now" into every kernel.
using Nanos = std::chrono::nanoseconds;

// Peak-EWMA round-trip estimate (Finagle, Linkerd/tower): a sample above the estimate replaces
// it at once (the peak), a lower one blends in with weight 1 - exp(-dt/decay). Between samples
// the estimate decays toward zero, so an endpoint that was slow gets probed again later.
class PeakEwma {
 public:
  void observe(Nanos rtt, Nanos now, Nanos decay);
  // A censored sample: the call ended (cancelled, timed out) before its answer, so the round
  // trip was at least `rtt`. Raises the estimate if it is above it, never lowers it.
  void observe_at_least(Nanos rtt, Nanos now, Nanos decay);
  // The estimate decayed to `now`; `cold` when there has been no sample yet.
  double estimate_ns(Nanos now, Nanos decay, Nanos cold) const;
  bool has_sample() const { return has_sample_; }

 private:
  double estimate_ns_ = 0;
  Nanos stamp_{0};
  bool has_sample_ = false;
};

struct EndpointLoad {
  uint32_t in_flight = 0;  // attempts started and not yet finished
  PeakEwma rtt;            // time to response headers (or to the end of a headers-less reply)
  uint64_t started = 0;    // attempts started, ever
  uint64_t finished = 0;   // attempts finished, ever (in_flight == started - finished)
  // Calls in a row that ended with a failure status (outlier detection), on this worker.
  uint32_t consecutive_failures = 0;
};

// Indexed like EndpointSet::endpoints.
using LoadTable = std::vector<std::shared_ptr<EndpointLoad>>;

// The per-call feedback hook (gRPC's SubchannelCallTracker, tower's RAII load handle): made when
// an attempt starts on an endpoint, told about response headers, finished exactly once. A
// tracker dropped without finish() finishes in its destructor, so in_flight can never leak.
// The EndpointLoad must outlive the tracker (the call holds the cluster state that owns it).
class CallTracker {
 public:
  CallTracker() = default;
  CallTracker(EndpointLoad* load, Nanos now, Nanos decay);
  CallTracker(CallTracker&& other) noexcept;
  CallTracker& operator=(CallTracker&& other) noexcept;
  CallTracker(const CallTracker&) = delete;
  CallTracker& operator=(const CallTracker&) = delete;
  ~CallTracker();

  bool active() const { return load_ != nullptr; }
  // The first call samples the round trip; later ones are ignored.
  void on_response_headers(Nanos now);
  // Ends the attempt; samples the round trip if no headers came. Idempotent.
  void finish(Nanos now);
  // Ends an attempt cut short before its answer (deadline, cancel): the time so far only
  // counts when it makes the endpoint look slower.
  void finish_unanswered(Nanos now);

 private:
  void release();

  EndpointLoad* load_ = nullptr;
  Nanos started_{0};
  Nanos decay_{0};
  bool sampled_ = false;
};

}  // namespace sluice::core
