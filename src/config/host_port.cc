// "host:port" parsing for listeners, admin and endpoints.
#include <arpa/inet.h>

#include <cctype>

#include "config/config.h"
#include "config/scalars.h"

namespace sluice::config {
namespace {

std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

bool is_ipv4_literal(const std::string& host) {
  in_addr addr{};
  return inet_pton(AF_INET, host.c_str(), &addr) == 1;
}

bool is_ipv6_literal(const std::string& host) {
  in6_addr addr{};
  return inet_pton(AF_INET6, host.c_str(), &addr) == 1;
}

bool looks_numeric(std::string_view host) {
  for (char c : host) {
    if (!(c == '.' || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

// RFC 1123 host names: dot-separated labels of letters, digits, '-' (not at a label's ends) and
// '_' (seen in service-discovery names); at most 63 characters a label, 253 in total; one
// trailing dot (a fully qualified name) is allowed.
bool is_host_name(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > 253) return false;
  size_t label_start = 0;
  for (size_t i = 0; i <= name.size(); ++i) {
    if (i == name.size() || name[i] == '.') {
      const std::string_view label = name.substr(label_start, i - label_start);
      if (label.empty() || label.size() > 63) return false;
      if (label.front() == '-' || label.back() == '-') return false;
      label_start = i + 1;
      continue;
    }
    const unsigned char c = static_cast<unsigned char>(name[i]);
    if (!(std::isalnum(c) || c == '-' || c == '_')) return false;
  }
  return true;
}

Expected<uint16_t, std::string> parse_port(std::string_view text, std::string_view address) {
  if (text.empty()) return Unexpected<std::string>("missing port in " + quoted(address));
  auto value = parse_uint(text);
  if (!value || *value > 65535) {
    return Unexpected<std::string>("invalid port " + quoted(text) + " in " + quoted(address) +
                                   " (expected 0-65535)");
  }
  return static_cast<uint16_t>(*value);
}

}  // namespace

std::string HostPort::to_string() const {
  const std::string port_text = std::to_string(port);
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + port_text;
  return host + ":" + port_text;
}

Expected<HostPort, std::string> parse_host_port(std::string_view text) {
  if (text.empty()) return Unexpected<std::string>("empty address (expected host:port)");
  HostPort result;
  std::string_view port_text;
  if (text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) {
      return Unexpected<std::string>("missing ']' in " + quoted(text));
    }
    result.host = std::string(text.substr(1, close - 1));
    if (!is_ipv6_literal(result.host)) {
      return Unexpected<std::string>("invalid IPv6 address " + quoted(result.host) + " in " +
                                     quoted(text));
    }
    const std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') {
      return Unexpected<std::string>("expected ':port' after ']' in " + quoted(text));
    }
    port_text = rest.substr(1);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return Unexpected<std::string>("missing port in " + quoted(text) + " (expected host:port)");
    }
    result.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
    if (result.host.find(':') != std::string::npos) {
      return Unexpected<std::string>("IPv6 addresses need brackets, e.g. [::1]:8080; got " +
                                     quoted(text));
    }
    if (result.host.empty()) {
      return Unexpected<std::string>("missing host in " + quoted(text) +
                                     " (use 0.0.0.0 or [::] for every interface)");
    }
    if (looks_numeric(result.host)) {
      if (!is_ipv4_literal(result.host)) {
        return Unexpected<std::string>("invalid IPv4 address " + quoted(result.host));
      }
    } else if (!is_host_name(result.host)) {
      return Unexpected<std::string>("invalid host name " + quoted(result.host));
    }
  }
  auto port = parse_port(port_text, text);
  if (!port) return Unexpected<std::string>(port.error());
  result.port = *port;
  return result;
}

}  // namespace sluice::config
