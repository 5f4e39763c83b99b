// "etcd://HOST:PORT[,HOST:PORT...]/PREFIX": where a service registers itself (the testserver's
// --register flag, EtcdRegistration users). Pure, unit tested.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/expected.h"
#include "config/config.h"

namespace sluice::discovery {

struct EtcdTarget {
  std::vector<config::HostPort> endpoints;  // etcd members, tried in turn
  // The path, always ending in '/' (it names a folder of keys, one per endpoint):
  // etcd://h:2379/sluice/backends -> "/sluice/backends/".
  std::string prefix;
};

Expected<EtcdTarget, std::string> parse_etcd_url(std::string_view url);

}  // namespace sluice::discovery
