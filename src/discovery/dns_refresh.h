// When the DNS resolver asks again. Pure, so the clamping and the backoff are unit tested;
// `unit` is a uniform random value in [0, 1) injected by the caller, for the jitter.
#pragma once

#include <chrono>

namespace sluice::discovery {

// After a good answer: the smallest TTL of its records clamped to [min_refresh, max_refresh],
// then +-10% so many proxies asking the same server do not ask in lockstep (the jitter may
// undershoot min_refresh by up to 10%).
std::chrono::milliseconds refresh_after_answer(std::chrono::seconds min_ttl,
                                               std::chrono::milliseconds min_refresh,
                                               std::chrono::milliseconds max_refresh, double unit);

// After the `failures`-th failure in a row (1, 2, ...): min_refresh x2, x4, x8 ... capped at
// max_refresh, +-10%. The last good set keeps serving meanwhile.
std::chrono::milliseconds refresh_after_failure(int failures, std::chrono::milliseconds min_refresh,
                                                std::chrono::milliseconds max_refresh, double unit);

}  // namespace sluice::discovery
