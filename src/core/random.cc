#include "core/random.h"

#include "core/hash.h"

namespace sluice::core {
namespace {

// __extension__: 128-bit products are a GCC/Clang extension that -Wpedantic would reject.
__extension__ typedef unsigned __int128 Uint128;

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// splitmix64: spreads any seed (even 0) over the whole xoshiro state.
uint64_t splitmix64(uint64_t& state) { return mix64(state += 0x9e3779b97f4a7c15ULL); }

}  // namespace

// Lemire's nearly-divisionless method: unbiased, and the modulo runs only on the rare
// rejection path.
uint64_t Random::below(uint64_t n) {
  if (n <= 1) return 0;  // also keeps n == 0 (a caller bug) from dividing by zero
  Uint128 m = static_cast<Uint128>(next()) * n;
  uint64_t low = static_cast<uint64_t>(m);
  if (low < n) {
    const uint64_t threshold = (0 - n) % n;  // 2^64 mod n
    while (low < threshold) {
      m = static_cast<Uint128>(next()) * n;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

FastRandom::FastRandom(uint64_t seed) {
  for (uint64_t& word : s_) word = splitmix64(seed);
}

uint64_t FastRandom::next() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

std::chrono::milliseconds jittered(std::chrono::milliseconds base, double spread, Random& random) {
  constexpr uint64_t kSteps = 1u << 20;
  const double unit = static_cast<double>(random.below(kSteps)) / kSteps;  // [0, 1)
  const double factor = 1.0 - spread + 2.0 * spread * unit;
  return std::chrono::milliseconds(
      static_cast<int64_t>(static_cast<double>(base.count()) * factor));
}

}  // namespace sluice::core
