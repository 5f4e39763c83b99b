#include "graceful_shutdown.h"

#include <grpc/grpc.h>

#include <algorithm>
#include <atomic>
#include <thread>

namespace sluice::testserver {

void shutdown_gracefully(grpc::Server& server, const ServerStats& stats,
                         std::chrono::milliseconds timeout) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout;
  std::atomic<bool> begun{false};
  std::thread shutdown_thread([&] {
    begun.store(true);
    server.Shutdown(std::chrono::system_clock::now() + timeout);
  });
  while (!begun.load()) std::this_thread::yield();
  // Let the GOAWAY (and its ping round trip) go out before anything is cut, and let calls
  // that raced with it start.
  std::this_thread::sleep_until(std::min(deadline, Clock::now() + std::chrono::milliseconds(100)));
  while (stats.active_calls() > 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // What grpc::Server::Shutdown itself does at its deadline; safe once shutdown has begun.
  grpc_server_cancel_all_calls(server.c_server());
  shutdown_thread.join();
  server.Wait();
}

}  // namespace sluice::testserver
