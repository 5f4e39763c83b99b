#include "http2/header_block.h"

#include <gtest/gtest.h>

#include "http2/byte_queue.h"

namespace sluice::http2 {
namespace {

TEST(HeaderBlock, KeepsOrderAndRepeatedNames) {
  HeaderBlock h;
  h.add(":status", "200");
  h.add("x-k", "1");
  h.add("x-k", "2");
  h.add("x-bin", std::string("\0\xff", 2));
  ASSERT_EQ(h.size(), 4u);
  EXPECT_EQ(h.name(2), "x-k");
  EXPECT_EQ(h.value(2), "2");
  EXPECT_EQ(h.value(3), std::string("\0\xff", 2));
  EXPECT_EQ(h.find("x-k"), "1");
  EXPECT_FALSE(h.find("missing").has_value());
}

TEST(HeaderBlock, SetReplacesFirstOrAppends) {
  HeaderBlock h;
  h.add("grpc-timeout", "10S");
  h.add("a", "b");
  h.set("grpc-timeout", "9S");
  h.set("new", "v");
  EXPECT_EQ(h.find("grpc-timeout"), "9S");
  EXPECT_EQ(h.name(0), "grpc-timeout");  // position kept
  EXPECT_EQ(h.find("new"), "v");
  EXPECT_EQ(h.size(), 3u);
}

TEST(HeaderBlock, RemoveDropsEveryField) {
  HeaderBlock h;
  h.add("x", "1");
  h.add("y", "2");
  h.add("x", "3");
  h.remove("x");
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h.name(0), "y");
}

TEST(ByteQueue, ReadsInOrderAcrossAppends) {
  ByteQueue q;
  const uint8_t a[] = {1, 2, 3};
  const uint8_t b[] = {4, 5};
  q.append(a, 3);
  q.append(b, 2);
  uint8_t out[4];
  EXPECT_EQ(q.read(out, 4), 4u);
  EXPECT_EQ(out[3], 4);
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.read(out, 4), 1u);
  EXPECT_EQ(out[0], 5);
  EXPECT_TRUE(q.empty());
}

TEST(ByteQueue, CompactsSoMemoryFollowsWhatIsQueued) {
  ByteQueue q;
  std::vector<uint8_t> chunk(16384, 7), out(16384);
  // A long stream passing through with at most two chunks queued.
  for (int i = 0; i < 1000; ++i) {
    q.append(chunk.data(), chunk.size());
    if (q.size() > 2 * chunk.size()) {
      ASSERT_EQ(q.read(out.data(), out.size()), out.size());
    }
  }
  EXPECT_LE(q.size(), 3 * chunk.size());
  // 16 MB went through; the storage stays near what was queued at once.
  EXPECT_LE(q.capacity(), 16 * chunk.size());
}

}  // namespace
}  // namespace sluice::http2
