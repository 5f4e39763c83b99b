// The endpoints file of file discovery: a YAML or JSON list whose entries are "host:port" or
// {address: host:port, weight: N, zone: Z, metadata: {k: v}}; and one such entry on its own (the
// value of an etcd key). Pure, so it can be fuzzed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/expected.h"
#include "config/config.h"

namespace sluice::discovery {

// Parses the whole file; any bad entry rejects the file (a half-written or invalid file must
// never replace a good set). Errors name the entry and, where known, the line.
Expected<std::vector<config::Endpoint>, std::string> parse_endpoints_file(std::string_view text);

// One entry on its own (an etcd value): "host:port" or a JSON/YAML mapping
// {"address": "host:port", "weight": N, "zone": "..", "metadata": {..}}.
Expected<config::Endpoint, std::string> parse_endpoint(std::string_view text);

}  // namespace sluice::discovery
