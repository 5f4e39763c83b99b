// The bytes of every patterned response payload, and the digest of uploads: shared with the
// tests that check what came through the proxy byte for byte.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::testserver {

// A payload of `size` bytes is the start of an endless repetition of one block. The block's
// length is a prime (65521), so no frame, window or message size divides it: a reordered,
// repeated or lost 16 KiB frame shows in a comparison. Printable, so a test failure reads.
inline const std::string& pattern_block() {
  static const std::string block = [] {
    static constexpr std::string_view kAlphabet =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/";
    std::string b(65521, '\0');
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (char& c : b) {
      x ^= x << 13;  // xorshift64: any fixed sequence will do, it only has to be aperiodic
      x ^= x >> 7;
      x ^= x << 17;
      c = kAlphabet[x % kAlphabet.size()];
    }
    return b;
  }();
  return block;
}

inline void fill_pattern(size_t size, std::string* out) {
  const std::string& block = pattern_block();
  out->clear();
  out->reserve(size);
  while (out->size() < size) out->append(block, 0, std::min(block.size(), size - out->size()));
}

inline std::string pattern(size_t size) {
  std::string s;
  fill_pattern(size, &s);
  return s;
}

// FNV-1a, 64 bit, continued over `bytes`: the upload digest (CallResponse.request_digest).
inline constexpr uint64_t kFnvOffset = 14695981039346656037ull;
inline uint64_t fnv1a(uint64_t hash, std::string_view bytes) {
  for (unsigned char c : bytes) hash = (hash ^ c) * 1099511628211ull;
  return hash;
}

}  // namespace sluice::testserver
