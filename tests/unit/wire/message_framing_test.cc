#include "http2/grpc/message_framing.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::wire {
namespace {

std::string message(size_t length) {
  std::string m(5, '\0');
  m[1] = static_cast<char>(length >> 24);
  m[2] = static_cast<char>(length >> 16);
  m[3] = static_cast<char>(length >> 8);
  m[4] = static_cast<char>(length);
  return m + std::string(length, 'x');
}

void feed(MessageFraming& f, const std::string& bytes) {
  f.advance(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

TEST(MessageFraming, FreshStreamIsAtABoundary) {
  MessageFraming f;
  EXPECT_TRUE(f.at_boundary());
  EXPECT_EQ(f.messages(), 0u);
}

TEST(MessageFraming, WholeMessagesEndAtBoundaries) {
  MessageFraming f;
  feed(f, message(3) + message(0) + message(70000));
  EXPECT_TRUE(f.at_boundary());
  EXPECT_EQ(f.messages(), 3u);
}

TEST(MessageFraming, APartialPrefixOrBodyIsNotABoundary) {
  const std::string m = message(10);
  for (size_t cut = 1; cut < m.size(); ++cut) {
    MessageFraming f;
    feed(f, m.substr(0, cut));
    EXPECT_FALSE(f.at_boundary()) << "cut at " << cut;
    feed(f, m.substr(cut));
    EXPECT_TRUE(f.at_boundary()) << "cut at " << cut;
    EXPECT_EQ(f.messages(), 1u);
  }
}

TEST(MessageFraming, ByteByByteAgreesWithAtOnce) {
  const std::string stream = message(1) + message(300) + message(0) + message(5);
  MessageFraming slow;
  size_t boundaries = 0;
  for (char c : stream) {
    feed(slow, std::string(1, c));
    boundaries += slow.at_boundary();
  }
  EXPECT_EQ(slow.messages(), 4u);
  EXPECT_EQ(boundaries, 4u) << "one boundary after each message's last byte";
}

TEST(MessageFraming, LengthsUpToFourGibibytesAreTracked) {
  MessageFraming f;
  const std::string prefix = {'\0', '\xff', '\xff', '\xff', '\xff'};
  feed(f, prefix);
  EXPECT_FALSE(f.at_boundary());
  std::vector<uint8_t> chunk(1 << 20, 0);
  for (uint64_t left = 0xffffffffull; left > 0;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(left, chunk.size()));
    f.advance(chunk.data(), n);
    left -= n;
  }
  EXPECT_TRUE(f.at_boundary());
  EXPECT_EQ(f.messages(), 1u);
}

}  // namespace
}  // namespace sluice::wire
