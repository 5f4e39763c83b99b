// The :path of a gRPC call: "/" Service-Name "/" Method-Name (PROTOCOL-HTTP2.md), where the
// service name is usually package-qualified ("/pkg.Service/Method").
#pragma once

#include <optional>
#include <string_view>

namespace sluice::wire {

// Views into the parsed path; they live as long as the string passed to parse_method_path.
struct MethodPath {
  std::string_view service;  // "pkg.Service"
  std::string_view method;   // "Method"
};

// Accepts exactly "/<service>/<method>" with both parts non-empty. Rejects a missing leading
// slash, any further slash, a query ('?') or fragment ('#'), and bytes that are not printable
// ASCII (controls, space, DEL, >= 0x80): real proto names never contain them, and routing on
// a lookalike would be a surprise.
std::optional<MethodPath> parse_method_path(std::string_view path);

}  // namespace sluice::wire
