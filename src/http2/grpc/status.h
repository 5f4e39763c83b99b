// gRPC status codes and the mappings a proxy needs when the upstream did not send grpc-status
// itself (an HTTP error, a reset stream), plus the grpc-message percent-encoding.
// Sources: grpc/grpc doc/statuscodes.md, doc/http-grpc-status-mapping.md, doc/PROTOCOL-HTTP2.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::wire {

enum class StatusCode : uint8_t {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};
inline constexpr int kStatusCodeCount = 17;

// HTTP/2 error codes (RFC 9113 section 7), so callers need not include nghttp2.
namespace h2_error {
inline constexpr uint32_t kNoError = 0x0;
inline constexpr uint32_t kProtocolError = 0x1;
inline constexpr uint32_t kInternalError = 0x2;
inline constexpr uint32_t kFlowControlError = 0x3;
inline constexpr uint32_t kSettingsTimeout = 0x4;
inline constexpr uint32_t kStreamClosed = 0x5;
inline constexpr uint32_t kFrameSizeError = 0x6;
inline constexpr uint32_t kRefusedStream = 0x7;
inline constexpr uint32_t kCancel = 0x8;
inline constexpr uint32_t kCompressionError = 0x9;
inline constexpr uint32_t kConnectError = 0xa;
inline constexpr uint32_t kEnhanceYourCalm = 0xb;
inline constexpr uint32_t kInadequateSecurity = 0xc;
inline constexpr uint32_t kHttp11Required = 0xd;
}  // namespace h2_error

// "OK", "CANCELLED", ... "UNAUTHENTICATED" as gRPC spells them.
std::string_view status_name(StatusCode code);

// Parses a grpc-status header value: one or more ASCII decimal digits, nothing else (no sign,
// no spaces). A well-formed value above 16 is legal on the wire but unknown to us: it maps to
// kUnknown, as gRPC implementations do. Malformed -> nullopt (the caller treats the call as
// failed with kUnknown or kInternal as it sees fit).
std::optional<StatusCode> parse_grpc_status(std::string_view value);

// Status for a response without grpc-status, from its HTTP :status
// (doc/http-grpc-status-mapping.md): 400 INTERNAL, 401 UNAUTHENTICATED, 403 PERMISSION_DENIED,
// 404 UNIMPLEMENTED, 429/502/503/504 UNAVAILABLE, anything else UNKNOWN.
StatusCode status_from_http(int http_status);

// Status for a stream reset by the peer with RST_STREAM(error_code) (PROTOCOL-HTTP2.md):
// REFUSED_STREAM -> UNAVAILABLE (never processed: safe to retry), CANCEL -> CANCELLED,
// ENHANCE_YOUR_CALM -> RESOURCE_EXHAUSTED, INADEQUATE_SECURITY -> PERMISSION_DENIED,
// every other code (including unknown ones) -> INTERNAL.
StatusCode status_from_rst_stream(uint32_t h2_error_code);

// The RST_STREAM code for the client when the upstream stream was reset after the response
// began. Codes that say the same on this hop pass (CANCEL, ENHANCE_YOUR_CALM,
// INADEQUATE_SECURITY); the rest become INTERNAL_ERROR: REFUSED_STREAM, say, would tell the
// client that nothing was processed, which is no longer true once a response started.
uint32_t downstream_reset_code(uint32_t upstream_code);

// grpc-message encoding: bytes outside 0x20..0x7E, and '%' itself, become "%XX" (upper-case
// hex); everything else passes unchanged. Input is raw bytes (UTF-8 in practice).
std::string percent_encode_message(std::string_view message);

// Lenient inverse, as the spec asks of receivers: "%XX" with two hex digits (either case)
// becomes that byte; a malformed escape ("%", "%4", "%zz") passes through literally.
std::string percent_decode_message(std::string_view encoded);

}  // namespace sluice::wire
