#include "core/subset.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <string_view>
#include <utility>

#include "core/hash.h"
#include "core/random.h"

namespace sluice::core {
namespace {

constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ULL;

uint64_t hash_pair(uint64_t a, uint64_t b) { return mix64(mix64(a + kGolden) ^ (b + kGolden)); }

// Stable across hosts (std::hash is not).
uint64_t hash_address(std::string_view address) { return stable_hash(address); }

std::vector<size_t> all_indices(size_t n) {
  std::vector<size_t> indices(n);
  std::iota(indices.begin(), indices.end(), size_t{0});
  return indices;
}

std::vector<size_t> rendezvous(std::span<const Endpoint> endpoints, const SubsetParams& params) {
  const uint64_t client_key = hash_pair(params.client_id, params.rotation);
  std::vector<std::pair<uint64_t, size_t>> scored(endpoints.size());
  for (size_t i = 0; i < endpoints.size(); ++i) {
    scored[i] = {mix64(hash_address(endpoints[i].address) ^ client_key), i};
  }
  // Ties (colliding address hashes) break by address, never by input position.
  const auto higher = [&](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first > b.first;
    return endpoints[a.second].address < endpoints[b.second].address;
  };
  const auto top = scored.begin() + static_cast<std::ptrdiff_t>(params.size);
  std::nth_element(scored.begin(), top, scored.end(), higher);
  std::vector<size_t> chosen;
  chosen.reserve(params.size);
  for (auto it = scored.begin(); it != top; ++it) chosen.push_back(it->second);
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

// The first 16 bytes as two big-endian words, zero-padded: comparing these orders addresses
// as std::string::compare does, so the full compare runs only on ties.
std::pair<uint64_t, uint64_t> address_words(std::string_view address) {
  unsigned char bytes[16] = {};
  std::memcpy(bytes, address.data(), std::min(address.size(), sizeof bytes));
  uint64_t high = 0, low = 0;
  for (size_t i = 0; i < 8; ++i) {
    high = (high << 8) | bytes[i];
    low = (low << 8) | bytes[i + 8];
  }
  return {high, low};
}

// Indices sorted by address: the canonical order that makes results independent of input
// order. Sorting dominates a deterministic choice, hence the prefix keys.
std::vector<size_t> by_address(std::span<const Endpoint> endpoints) {
  struct Key {
    uint64_t high, low;
    size_t index;
  };
  std::vector<Key> keys(endpoints.size());
  for (size_t i = 0; i < endpoints.size(); ++i) {
    const auto [high, low] = address_words(endpoints[i].address);
    keys[i] = {high, low, i};
  }
  std::sort(keys.begin(), keys.end(), [&](const Key& a, const Key& b) {
    if (a.high != b.high) return a.high < b.high;
    if (a.low != b.low) return a.low < b.low;
    const int c = endpoints[a.index].address.compare(endpoints[b.index].address);
    return c != 0 ? c < 0 : a.index < b.index;
  });
  std::vector<size_t> order(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) order[i] = keys[i].index;
  return order;
}

// Deterministic subsetting generalised to any n: client k owns positions
// [k * size, (k + 1) * size) of an endless stream of blocks, block r being all endpoints
// shuffled with a seed of (r, rotation). Every block holds each endpoint once, so connections
// per endpoint differ by at most one for any client count, as long as windows that straddle
// two blocks can be kept free of duplicates (repair_head). When size divides n no window
// straddles and this is exactly the SRE book's round / subset_id scheme.
class BlockStream {
 public:
  BlockStream(std::span<const Endpoint> endpoints, size_t size, uint64_t rotation)
      : order_(by_address(endpoints)), size_(size), rotation_(rotation) {}

  std::vector<size_t> window(uint64_t client) const {
    const uint64_t n = order_.size();
    // block and offset of client * size, without overflowing the product
    const uint64_t spill = (client % n) * size_;
    const uint64_t block = (client / n) * size_ + spill / n;
    const size_t offset = static_cast<size_t>(spill % n);
    if (offset + size_ <= n) {
      const size_t carried = overhang(block);
      // A block entered by a straddling window has its head repaired, which needs all of the
      // shuffle; otherwise only this window's slots.
      std::vector<size_t> current = shuffled(block, carried > 0 ? 0 : offset);
      if (carried > 0) {
        const std::vector<size_t> previous = shuffled(block - 1, order_.size() - carried);
        repair_head(current, std::span(previous).last(carried), block);
      }
      return {current.begin() + static_cast<std::ptrdiff_t>(offset),
              current.begin() + static_cast<std::ptrdiff_t>(offset + size_)};
    }
    const std::vector<size_t> current = shuffled(block, offset);
    std::vector<size_t> chosen(current.begin() + static_cast<std::ptrdiff_t>(offset),
                               current.end());
    std::vector<size_t> next = shuffled(block + 1);
    repair_head(next, chosen, block + 1);
    // The repair leaves no duplicate unless n is barely above size; skip any that remain.
    const std::vector<char> taken = marks(chosen);
    for (size_t i = 0; chosen.size() < size_; ++i) {
      if (!taken[next[i]]) chosen.push_back(next[i]);
    }
    return chosen;
  }

 private:
  // The block shuffled until positions from `first_final` on are final: Fisher-Yates from the
  // back fixes one position per step, exactly as a full shuffle would leave it.
  std::vector<size_t> shuffled(uint64_t block, size_t first_final = 0) const {
    std::vector<size_t> out = order_;
    FastRandom random(hash_pair(block, rotation_));
    for (size_t i = out.size() - 1; i > 0 && i >= first_final; --i) {
      std::swap(out[i], out[random.below(i + 1)]);
    }
    return out;
  }

  // How many endpoints at the end of block - 1 belong to the window that straddles into block.
  size_t overhang(uint64_t block) const {
    const uint64_t n = order_.size();
    return static_cast<size_t>(((block % size_) * (n % size_)) % size_);
  }

  std::vector<char> marks(std::span<const size_t> indices) const {
    std::vector<char> marked(order_.size(), 0);
    for (const size_t i : indices) marked[i] = 1;
    return marked;
  }

  // Swaps endpoints of `prev_tail` out of the head of `block` (the straddling window's part of
  // it), with endpoints from the middle: a swap keeps the block a permutation, so balance
  // holds; the middle excludes the tail the next straddling window takes, which must stay as
  // shuffled() made it.
  void repair_head(std::vector<size_t>& block, std::span<const size_t> prev_tail,
                   uint64_t block_number) const {
    const size_t head = size_ - prev_tail.size();
    const size_t middle_end = block.size() - overhang(block_number + 1);
    const std::vector<char> in_tail = marks(prev_tail);
    size_t swap_with = head;
    for (size_t i = 0; i < head; ++i) {
      if (!in_tail[block[i]]) continue;
      while (swap_with < middle_end && in_tail[block[swap_with]]) ++swap_with;
      if (swap_with >= middle_end) return;
      std::swap(block[i], block[swap_with++]);
    }
  }

  std::vector<size_t> order_;
  size_t size_;
  uint64_t rotation_;
};

}  // namespace

std::vector<size_t> choose_subset(std::span<const Endpoint> endpoints, const SubsetParams& params) {
  if (params.size == 0 || params.size >= endpoints.size()) return all_indices(endpoints.size());
  if (params.mode == SubsetMode::kRendezvous) return rendezvous(endpoints, params);
  const uint64_t client =
      params.client_count > 0 ? params.client_id % params.client_count : params.client_id;
  std::vector<size_t> chosen = BlockStream(endpoints, params.size, params.rotation).window(client);
  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

}  // namespace sluice::core
