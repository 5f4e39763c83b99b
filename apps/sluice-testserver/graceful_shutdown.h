// SIGTERM handling of sluice-testserver.
#pragma once

#include <chrono>

#include <grpcpp/server.h>

#include "server_stats.h"

namespace sluice::testserver {

// Stops accepting calls (GOAWAY on every connection) and gives the running TestService calls up
// to `timeout` to finish. As soon as they are done, whatever is left (grpc.health.v1 Watch
// streams, idle client connections) is cut: gRPC's own Shutdown would wait for clients to
// close their connections, so a proxy holding idle upstream connections would stall every
// stop for the whole timeout.
void shutdown_gracefully(grpc::Server& server, const ServerStats& stats,
                         std::chrono::milliseconds timeout);

}  // namespace sluice::testserver
