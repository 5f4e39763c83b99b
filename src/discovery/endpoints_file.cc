#include "discovery/endpoints_file.h"

#include <yaml-cpp/yaml.h>

#include <set>

namespace sluice::discovery {
namespace {

using Result = Expected<std::vector<config::Endpoint>, std::string>;

std::string where(const YAML::Node& node, size_t index) {
  std::string at = "entry " + std::to_string(index);
  if (node.Mark().line >= 0) at += " (line " + std::to_string(node.Mark().line + 1) + ")";
  return at;
}

// `at` names the entry in errors ("entry 3 (line 4)").
Expected<config::Endpoint, std::string> parse_entry(const YAML::Node& node, const std::string& at) {
  config::Endpoint e;
  // yaml-cpp nodes are references: assigning one to another rewrites the document, so the
  // address node is chosen once, never re-assigned.
  const YAML::Node address = node.IsMap() ? node["address"] : node;
  if (node.IsMap()) {
    for (const auto& kv : node) {
      const std::string key = kv.first.as<std::string>();
      if (key != "address" && key != "weight" && key != "zone" && key != "metadata") {
        return Unexpected(at + ": unknown key \"" + key + "\"");
      }
    }
    if (!address) return Unexpected(at + ": missing \"address\"");
    if (auto w = node["weight"]) {
      long weight = 0;
      if (!w.IsScalar() || !YAML::convert<long>::decode(w, weight) || weight < 1 ||
          weight > 1000000) {
        return Unexpected(at + ": weight must be an integer 1-1000000");
      }
      e.weight = static_cast<uint32_t>(weight);
    }
    if (auto z = node["zone"]) {
      if (!z.IsScalar()) return Unexpected(at + ": zone must be a string");
      e.zone = z.Scalar();
    }
    if (auto m = node["metadata"]) {
      if (!m.IsMap()) return Unexpected(at + ": metadata must be a mapping");
      for (const auto& kv : m) {
        if (!kv.first.IsScalar() || !kv.second.IsScalar()) {
          return Unexpected(at + ": metadata values must be strings");
        }
        e.metadata[kv.first.Scalar()] = kv.second.Scalar();
      }
    }
  }
  if (!address.IsScalar()) {
    return Unexpected(at + ": expected \"host:port\" or a mapping with address");
  }
  auto hp = config::parse_host_port(address.Scalar());
  if (!hp) return Unexpected(at + ": " + hp.error());
  if (hp->port == 0) return Unexpected(at + ": port 0 is not an endpoint");
  e.address = *hp;
  return e;
}

}  // namespace

Result parse_endpoints_file(std::string_view text) {
  YAML::Node root;
  try {  // yaml-cpp reports syntax errors by exception; this is the boundary
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& ex) {
    return Unexpected("line " + std::to_string(ex.mark.line + 1) + ": " + ex.msg);
  }
  if (!root.IsSequence()) return Unexpected(std::string("expected a list of endpoints"));
  std::vector<config::Endpoint> endpoints;
  std::set<std::string> seen;
  try {
    for (size_t i = 0; i < root.size(); ++i) {
      auto e = parse_entry(root[i], where(root[i], i));
      if (!e) return Unexpected(e.error());
      if (!seen.insert(e->address.to_string()).second) {
        return Unexpected(where(root[i], i) + ": duplicate address " + e->address.to_string());
      }
      endpoints.push_back(std::move(*e));
    }
  } catch (const YAML::Exception& ex) {
    return Unexpected("line " + std::to_string(ex.mark.line + 1) + ": " + ex.msg);
  }
  return endpoints;
}

Expected<config::Endpoint, std::string> parse_endpoint(std::string_view text) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || text[first] != '{') {
    // A bare address: no YAML here, so "[::1]:80" is not read as a flow sequence.
    const size_t last = text.find_last_not_of(" \t\r\n");
    const std::string_view address =
        first == std::string_view::npos ? text.substr(0, 0) : text.substr(first, last - first + 1);
    auto hp = config::parse_host_port(address);
    if (!hp) return Unexpected(hp.error());
    if (hp->port == 0) return Unexpected(std::string("port 0 is not an endpoint"));
    config::Endpoint e;
    e.address = *hp;
    return e;
  }
  try {  // yaml-cpp reports syntax errors by exception; this is the boundary
    return parse_entry(YAML::Load(std::string(text)), "value");
  } catch (const YAML::Exception& ex) {
    return Unexpected("value: " + ex.msg);
  }
}

}  // namespace sluice::discovery
