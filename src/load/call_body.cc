#include "load/call_body.h"

#include "sluice/test/v1/test.pb.h"

namespace sluice::load {
namespace {

void append_frame(std::string& out, const std::string& message) {
  const auto n = static_cast<uint32_t>(message.size());
  out.push_back('\0');  // not compressed
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((n >> shift) & 0xff));
  out += message;
}

}  // namespace

std::optional<Method> parse_method(std::string_view name) {
  if (name == "unary" || name == "Unary") return Method::kUnary;
  if (name == "server_stream" || name == "ServerStream") return Method::kServerStream;
  if (name == "client_stream" || name == "ClientStream") return Method::kClientStream;
  if (name == "bidi_stream" || name == "BidiStream") return Method::kBidiStream;
  return std::nullopt;
}

std::string_view method_name(Method method) {
  switch (method) {
    case Method::kUnary:
      return "Unary";
    case Method::kServerStream:
      return "ServerStream";
    case Method::kClientStream:
      return "ClientStream";
    case Method::kBidiStream:
      return "BidiStream";
  }
  return "Unary";
}

std::string method_path(Method method) {
  return "/sluice.test.v1.TestService/" + std::string(method_name(method));
}

std::string request_body(const CallShape& shape) {
  sluice::test::v1::CallRequest request;
  request.set_payload(std::string(shape.request_size, 'x'));
  request.set_response_size(shape.response_size);
  request.set_delay_ms(shape.delay_ms);
  if (shape.status_code != 0) {
    request.set_status_code(shape.status_code);
    request.set_status_message("asked for by sluice-load");
  }
  const bool streams_requests =
      shape.method == Method::kClientStream || shape.method == Method::kBidiStream;
  if (shape.method == Method::kServerStream) request.set_response_count(shape.messages);
  const std::string message = request.SerializeAsString();
  std::string body;
  const uint32_t count = streams_requests ? std::max<uint32_t>(shape.messages, 1) : 1;
  body.reserve(count * (message.size() + 5));
  for (uint32_t i = 0; i < count; ++i) append_frame(body, message);
  return body;
}

}  // namespace sluice::load
