// The random source injected into every balancing kernel, so tests can fix it.
#pragma once

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
class FastRandom final : public Random {
 public:
  explicit FastRandom(uint64_t seed);
  uint64_t next() override;

 private:
  uint64_t s_[4];
};

}  // namespace sluice::core
