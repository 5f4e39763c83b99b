// What each call of a load run sends: the TestService method and the gRPC-framed request
// body, built once and shared by every call.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::load {

enum class Method { kUnary, kServerStream, kClientStream, kBidiStream };

// "unary", "server_stream", "client_stream", "bidi_stream" (also the proto names: "Unary", ...).
std::optional<Method> parse_method(std::string_view name);
std::string_view method_name(Method method);
// "/sluice.test.v1.TestService/Unary" and so on.
std::string method_path(Method method);

struct CallShape {
  Method method = Method::kUnary;
  uint32_t request_size = 0;   // payload bytes per request message
  uint32_t response_size = 0;  // payload bytes per response message
  // Streams: messages each way (client/bidi: requests sent; server: responses asked for;
  // bidi: one response per request).
  uint32_t messages = 1;
  uint32_t delay_ms = 0;    // the backend waits this long before answering
  int32_t status_code = 0;  // the backend ends the call with this gRPC status (0 = OK)
};

// The request body of one call: every request message, each in its 5-byte gRPC frame.
std::string request_body(const CallShape& shape);

}  // namespace sluice::load
