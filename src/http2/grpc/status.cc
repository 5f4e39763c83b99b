#include "http2/grpc/status.h"

#include <algorithm>
#include <array>

namespace sluice::wire {
namespace {

constexpr std::array<std::string_view, kStatusCodeCount> kNames = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
};

constexpr char kHexDigits[] = "0123456789ABCDEF";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool needs_escape(unsigned char c) { return c < 0x20 || c > 0x7E || c == '%'; }

}  // namespace

std::string_view status_name(StatusCode code) {
  const auto index = static_cast<size_t>(code);
  return index < kNames.size() ? kNames[index] : std::string_view("UNKNOWN");
}

std::optional<StatusCode> parse_grpc_status(std::string_view value) {
  if (value.empty()) return std::nullopt;
  uint32_t number = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    // Saturate just above the known range: any larger value means the same (kUnknown).
    number = std::min<uint32_t>(number * 10 + static_cast<uint32_t>(c - '0'), 1000);
  }
  if (number >= kStatusCodeCount) return StatusCode::kUnknown;
  return static_cast<StatusCode>(number);
}

StatusCode status_from_http(int http_status) {
  switch (http_status) {
    case 400:
      return StatusCode::kInternal;
    case 401:
      return StatusCode::kUnauthenticated;
    case 403:
      return StatusCode::kPermissionDenied;
    case 404:
      return StatusCode::kUnimplemented;
    case 429:
    case 502:
    case 503:
    case 504:
      return StatusCode::kUnavailable;
    default:
      return StatusCode::kUnknown;
  }
}

StatusCode status_from_rst_stream(uint32_t h2_error_code) {
  switch (h2_error_code) {
    case h2_error::kRefusedStream:
      return StatusCode::kUnavailable;
    case h2_error::kCancel:
      return StatusCode::kCancelled;
    case h2_error::kEnhanceYourCalm:
      return StatusCode::kResourceExhausted;
    case h2_error::kInadequateSecurity:
      return StatusCode::kPermissionDenied;
    default:
      return StatusCode::kInternal;
  }
}

uint32_t downstream_reset_code(uint32_t upstream_code) {
  switch (upstream_code) {
    case h2_error::kCancel:
    case h2_error::kEnhanceYourCalm:
    case h2_error::kInadequateSecurity:
      return upstream_code;
    default:
      return h2_error::kInternalError;
  }
}

std::string percent_encode_message(std::string_view message) {
  std::string out;
  out.reserve(message.size());
  for (char c : message) {
    const auto byte = static_cast<unsigned char>(c);
    if (needs_escape(byte)) {
      out += '%';
      out += kHexDigits[byte >> 4];
      out += kHexDigits[byte & 0xF];
    } else {
      out += c;
    }
  }
  return out;
}

std::string percent_decode_message(std::string_view encoded) {
  std::string out;
  out.reserve(encoded.size());
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] == '%' && i + 2 < encoded.size()) {
      const int high = hex_value(encoded[i + 1]);
      const int low = hex_value(encoded[i + 2]);
      if (high >= 0 && low >= 0) {
        out += static_cast<char>(high * 16 + low);
        i += 2;
        continue;
      }
    }
    out += encoded[i];
  }
  return out;
}

}  // namespace sluice::wire
