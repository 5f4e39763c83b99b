// The proxy's /clusters page as tests read it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "integration/sluice_process.h"

namespace sluice::testing {

// The /clusters entry of one endpoint of the first cluster ({} if the page or the endpoint is
// missing).
inline nlohmann::json endpoint_view(const SluiceProcess& proxy, const std::string& address) {
  auto page = proxy.admin_get("/clusters");
  if (!page) return {};
  const nlohmann::json json = nlohmann::json::parse(*page);
  for (const auto& e : json["clusters"][0]["endpoints"]) {
    if (e["address"] == address) return e;
  }
  return {};
}

}  // namespace sluice::testing
