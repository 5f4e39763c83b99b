// The health codec against protobuf: our request parses as HealthCheckRequest, and protobuf's
// HealthCheckResponse (unknown fields included) reads back, however the bytes are split.
#include "health/health_wire.h"

#include <gtest/gtest.h>

#include "grpc/health/v1/health.pb.h"

namespace sluice::health {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

std::string framed(const std::string& message) {
  std::string out(5, '\0');
  const auto n = static_cast<uint32_t>(message.size());
  for (int i = 0; i < 4; ++i) out[1 + i] = static_cast<char>((n >> (24 - 8 * i)) & 0xff);
  return out + message;
}

std::string response_bytes(HealthCheckResponse::ServingStatus status) {
  HealthCheckResponse r;
  r.set_status(status);
  return framed(r.SerializeAsString());
}

TEST(HealthWire, TheRequestIsAFramedHealthCheckRequest) {
  for (const std::string& service :
       {std::string(), std::string("sluice.test.v1.TestService"), std::string(300, 'x')}) {
    const std::string bytes = encode_check_request(service);
    ASSERT_GE(bytes.size(), 5u);
    EXPECT_EQ(bytes[0], 0) << "uncompressed";
    const uint32_t len = (static_cast<uint8_t>(bytes[1]) << 24) |
                         (static_cast<uint8_t>(bytes[2]) << 16) |
                         (static_cast<uint8_t>(bytes[3]) << 8) | static_cast<uint8_t>(bytes[4]);
    ASSERT_EQ(len, bytes.size() - 5);
    HealthCheckRequest parsed;
    ASSERT_TRUE(parsed.ParseFromString(bytes.substr(5)));
    EXPECT_EQ(parsed.service(), service);
  }
}

TEST(HealthWire, ReadsProtobufResponsesSplitAnywhere) {
  const std::string stream = response_bytes(HealthCheckResponse::SERVING) +
                             response_bytes(HealthCheckResponse::NOT_SERVING) +
                             response_bytes(HealthCheckResponse::UNKNOWN) +
                             response_bytes(HealthCheckResponse::SERVICE_UNKNOWN);
  for (size_t chunk = 1; chunk <= stream.size(); ++chunk) {
    ResponseReader reader;
    std::vector<ServingStatus> got;
    for (size_t at = 0; at < stream.size(); at += chunk) {
      const size_t n = std::min(chunk, stream.size() - at);
      ASSERT_TRUE(reader.feed(reinterpret_cast<const uint8_t*>(stream.data() + at), n));
      while (reader.has_status()) got.push_back(reader.pop_status());
    }
    EXPECT_TRUE(reader.at_boundary());
    EXPECT_EQ(got,
              (std::vector<ServingStatus>{ServingStatus::kServing, ServingStatus::kNotServing,
                                          ServingStatus::kUnknown, ServingStatus::kServiceUnknown}))
        << "chunk " << chunk;
  }
}

TEST(HealthWire, SkipsUnknownFieldsAndReadsUnknownEnumValuesAsUnknown) {
  // status SERVING, then field 2 (varint), field 3 (bytes), field 4 (fixed32), field 5
  // (fixed64): a newer server's response.
  using namespace std::string_literals;
  const std::string body = "\x08\x01\x10\x96\x01\x1a\x03"s + "abc"s + "\x25\x01\x02\x03\x04\x29"s +
                           std::string(8, '\x07');
  auto status = parse_response(body);
  ASSERT_TRUE(status) << status.error();
  EXPECT_EQ(*status, ServingStatus::kServing);
  auto future = parse_response(std::string("\x08\x09", 2));
  ASSERT_TRUE(future);
  EXPECT_EQ(*future, ServingStatus::kUnknown);
  auto empty = parse_response("");
  ASSERT_TRUE(empty);
  EXPECT_EQ(*empty, ServingStatus::kUnknown) << "a default status is not on the wire";
}

TEST(HealthWire, RejectsWhatIsNotAHealthResponse) {
  EXPECT_FALSE(parse_response(std::string("\x08", 1))) << "cut varint";
  EXPECT_FALSE(parse_response(std::string("\x0a\x01x", 3))) << "status as bytes";
  EXPECT_FALSE(parse_response(std::string("\x1a\x05xy", 4))) << "cut length-delimited";
  EXPECT_FALSE(parse_response(std::string("\x0b", 1))) << "group wire type";
  ResponseReader compressed;
  const std::string c = std::string("\x01\x00\x00\x00\x00", 5);
  EXPECT_FALSE(compressed.feed(reinterpret_cast<const uint8_t*>(c.data()), c.size()));
  ResponseReader huge;
  const std::string h = std::string("\x00\x00\x01\x00\x01", 5);  // 65537 bytes announced
  EXPECT_FALSE(huge.feed(reinterpret_cast<const uint8_t*>(h.data()), h.size()));
}

}  // namespace
}  // namespace sluice::health
