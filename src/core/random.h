// The random source injected into every balancing kernel, so tests can fix it.
#pragma once

#include <chrono>
#include <cstdint>

namespace sluice::core {

class Random {
 public:
  virtual ~Random() = default;
  virtual uint64_t next() = 0;
  // Uniform in [0, n) without modulo bias (Lemire). n > 0; returns 0 for n <= 1.
  uint64_t below(uint64_t n);
};

// xoshiro256** seeded through splitmix64: fast, good enough for balancing, not for secrets.
// `base` scaled by a uniform factor in [1 - spread, 1 + spread] (spread 0.1 = +-10%): timers
// that many connections share (max age, reconnect backoff) must not fire in lockstep.
std::chrono::milliseconds jittered(std::chrono::milliseconds base, double spread, Random& random);

class FastRandom final : public Random {
 public:
  explicit FastRandom(uint64_t seed);
  uint64_t next() override;

 private:
  uint64_t s_[4];
};

}  // namespace sluice::core
