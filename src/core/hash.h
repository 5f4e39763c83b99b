// A stable 64-bit hash: the same bytes hash the same on every host and build (std::hash does
// not promise that), so ring positions and hash keys agree across proxies and restarts.
#pragma once

#include <cstdint>
#include <string_view>

namespace sluice::core {

// FNV-1a over the bytes, then a splitmix64 finalizer: FNV alone clusters similar short strings
// ("10.0.0.1:1", "10.0.0.1:2"), and the finalizer spreads them over the whole range.
uint64_t stable_hash(std::string_view bytes, uint64_t seed = 0);

// splitmix64's finalizer: a bijection that spreads every input bit over the whole word.
uint64_t mix64(uint64_t z);

}  // namespace sluice::core
