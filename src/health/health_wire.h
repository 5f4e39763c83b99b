// grpc.health.v1 on the wire: the framed HealthCheckRequest we send and a reader for the
// framed HealthCheckResponse messages that come back (Check: one; Watch: one per change).
// Hand-written rather than generated: two messages of one field each, and the proxy then needs
// no protobuf runtime. Unknown fields are skipped, as protobuf does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "base/expected.h"

namespace sluice::health {

enum class ServingStatus : uint8_t {
  kUnknown = 0,
  kServing = 1,
  kNotServing = 2,
  kServiceUnknown = 3
};
std::string_view serving_status_name(ServingStatus status);

// A gRPC message (5-byte prefix, uncompressed) holding HealthCheckRequest{service}.
std::string encode_check_request(std::string_view service);

class ResponseReader {
 public:
  // A response above this is not a health answer: the reader fails.
  static constexpr size_t kMaxMessage = 4096;
  // The next bytes of the response body. An error (compressed, too large, not protobuf) is
  // final: the stream is not a health answer.
  Expected<void, std::string> feed(const uint8_t* data, size_t len);
  // Statuses of the whole messages read so far, oldest first.
  bool has_status() const { return !statuses_.empty(); }
  ServingStatus pop_status();
  // Nothing begun and not finished.
  bool at_boundary() const { return pending_.empty(); }

 private:
  std::string pending_;  // bytes of the message being read (prefix included)
  std::deque<ServingStatus> statuses_;
};

// The status field of one HealthCheckResponse message body (field 1, an enum; absent = UNKNOWN).
Expected<ServingStatus, std::string> parse_response(std::string_view message);

}  // namespace sluice::health
