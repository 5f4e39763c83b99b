#include "http2/grpc/path.h"

namespace sluice::wire {
namespace {

bool is_name_byte(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte > 0x20 && byte < 0x7F && c != '/' && c != '?' && c != '#';
}

bool is_name(std::string_view part) {
  if (part.empty()) return false;
  for (char c : part) {
    if (!is_name_byte(c)) return false;
  }
  return true;
}

}  // namespace

std::optional<MethodPath> parse_method_path(std::string_view path) {
  if (path.size() < 4 || path.front() != '/') return std::nullopt;  // shortest: "/s/m"
  const size_t slash = path.find('/', 1);
  if (slash == std::string_view::npos) return std::nullopt;
  const std::string_view service = path.substr(1, slash - 1);
  const std::string_view method = path.substr(slash + 1);
  if (!is_name(service) || !is_name(method)) return std::nullopt;
  return MethodPath{service, method};
}

}  // namespace sluice::wire
