#include "health/health_wire.h"

#include <algorithm>

namespace sluice::health {
namespace {

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// Reads a varint at `pos`; false if it is cut short or longer than 10 bytes.
bool get_varint(std::string_view in, size_t& pos, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 70 && pos < in.size(); shift += 7) {
    const auto byte = static_cast<uint8_t>(in[pos++]);
    v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

uint32_t big_endian32(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(s[at + i]);
  return v;
}

}  // namespace

std::string_view serving_status_name(ServingStatus status) {
  switch (status) {
    case ServingStatus::kServing:
      return "SERVING";
    case ServingStatus::kNotServing:
      return "NOT_SERVING";
    case ServingStatus::kServiceUnknown:
      return "SERVICE_UNKNOWN";
    case ServingStatus::kUnknown:
      break;
  }
  return "UNKNOWN";
}

std::string encode_check_request(std::string_view service) {
  std::string body;
  if (!service.empty()) {
    body.push_back(0x0a);  // field 1, length-delimited
    put_varint(body, service.size());
    body.append(service);
  }
  std::string out(5, '\0');
  const auto n = static_cast<uint32_t>(body.size());
  for (size_t i = 0; i < 4; ++i) out[1 + i] = static_cast<char>((n >> (24 - 8 * i)) & 0xff);
  return out + body;
}

Expected<ServingStatus, std::string> parse_response(std::string_view message) {
  ServingStatus status = ServingStatus::kUnknown;
  size_t pos = 0;
  while (pos < message.size()) {
    uint64_t tag = 0;
    if (!get_varint(message, pos, tag)) return Unexpected(std::string("truncated field tag"));
    const uint64_t field = tag >> 3;
    uint64_t value = 0;
    switch (tag & 7) {
      case 0:  // varint
        if (!get_varint(message, pos, value)) return Unexpected(std::string("truncated varint"));
        if (field == 1) {
          // An enum value this version does not know reads as UNKNOWN (not serving).
          status = value <= 3 ? static_cast<ServingStatus>(value) : ServingStatus::kUnknown;
        }
        break;
      case 1:  // fixed64
        if (message.size() - pos < 8) return Unexpected(std::string("truncated fixed64"));
        pos += 8;
        break;
      case 2:  // length-delimited
        if (!get_varint(message, pos, value) || value > message.size() - pos) {
          return Unexpected(std::string("truncated length-delimited field"));
        }
        if (field == 1) return Unexpected(std::string("status is not an enum"));
        pos += value;
        break;
      case 5:  // fixed32
        if (message.size() - pos < 4) return Unexpected(std::string("truncated fixed32"));
        pos += 4;
        break;
      default:
        return Unexpected("unsupported wire type " + std::to_string(tag & 7));
    }
    if (field == 0) return Unexpected(std::string("field number 0"));
  }
  return status;
}

Expected<void, std::string> ResponseReader::feed(const uint8_t* data, size_t len) {
  size_t used = 0;
  while (used < len) {
    if (pending_.size() < 5) {
      const size_t take = std::min(len - used, 5 - pending_.size());
      pending_.append(reinterpret_cast<const char*>(data + used), take);
      used += take;
      if (pending_.size() < 5) break;
      if (pending_[0] != 0) return Unexpected(std::string("compressed health response"));
      if (big_endian32(pending_, 1) > kMaxMessage) {
        return Unexpected("health response of " + std::to_string(big_endian32(pending_, 1)) +
                          " bytes (at most " + std::to_string(kMaxMessage) + ")");
      }
    }
    const size_t want = big_endian32(pending_, 1);
    const size_t have = pending_.size() - 5;
    const size_t take = std::min(len - used, want - have);
    pending_.append(reinterpret_cast<const char*>(data + used), take);
    used += take;
    if (pending_.size() - 5 < want) break;
    auto status = parse_response(std::string_view(pending_).substr(5));
    if (!status) return Unexpected("malformed health response: " + status.error());
    statuses_.push_back(*status);
    pending_.clear();
  }
  return {};
}

ServingStatus ResponseReader::pop_status() {
  const ServingStatus s = statuses_.front();
  statuses_.pop_front();
  return s;
}

}  // namespace sluice::health
