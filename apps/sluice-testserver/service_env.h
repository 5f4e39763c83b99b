// What every call of the test service shares: counters, the backend id, the health service.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>

#include <grpcpp/health_check_service_interface.h>

#include "server_stats.h"

namespace sluice::testserver {

struct ServiceEnv {
  ServerStats stats;
  // Both are set once, right after the server is bound (the id may name the bound port) and
  // before the listening line is printed, so no client can call before they are set.
  std::atomic<const std::string*> backend_id{nullptr};
  std::atomic<grpc::HealthCheckServiceInterface*> health{nullptr};
  // --extra-delay: added to every Unary call's delay_ms, so one backend can be made slow.
  // Set before the server starts.
  std::chrono::milliseconds extra_delay{0};
  // --fail-share / --fail-code: this share of Unary calls (spread evenly: call i fails when
  // floor(i x share) grows) ends with this status instead of its answer. A sick backend.
  double fail_share = 0;
  int fail_code = 14;  // UNAVAILABLE
  std::atomic<uint64_t> unary_calls{0};
  bool should_fail() {
    if (fail_share <= 0) return false;
    const uint64_t i = unary_calls.fetch_add(1, std::memory_order_relaxed) + 1;
    return static_cast<uint64_t>(static_cast<double>(i) * fail_share) !=
           static_cast<uint64_t>(static_cast<double>(i - 1) * fail_share);
  }

  std::string_view id() const {
    const std::string* id = backend_id.load(std::memory_order_acquire);
    return id == nullptr ? std::string_view() : std::string_view(*id);
  }
};

}  // namespace sluice::testserver
