#include "discovery/etcd_url.h"

namespace sluice::discovery {

Expected<EtcdTarget, std::string> parse_etcd_url(std::string_view url) {
  constexpr std::string_view kScheme = "etcd://";
  const std::string quoted = "\"" + std::string(url) + "\"";
  if (!url.starts_with(kScheme)) return Unexpected(quoted + ": expected etcd://HOST:PORT/PREFIX");
  std::string_view rest = url.substr(kScheme.size());
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash + 1 == rest.size()) {
    return Unexpected(quoted + ": no key prefix after the host (etcd://HOST:PORT/PREFIX)");
  }
  EtcdTarget target;
  std::string_view hosts = rest.substr(0, slash);
  while (!hosts.empty()) {
    const size_t comma = hosts.find(',');
    auto hp = config::parse_host_port(hosts.substr(0, comma));
    if (!hp) return Unexpected(quoted + ": " + hp.error());
    if (hp->port == 0) return Unexpected(quoted + ": port 0 is not an etcd endpoint");
    target.endpoints.push_back(*hp);
    hosts = comma == std::string_view::npos ? std::string_view() : hosts.substr(comma + 1);
  }
  if (target.endpoints.empty()) return Unexpected(quoted + ": no etcd host");
  target.prefix = std::string(rest.substr(slash));
  if (!target.prefix.ends_with('/')) target.prefix += '/';
  return target;
}

}  // namespace sluice::discovery
