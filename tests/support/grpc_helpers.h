// Small grpc++ client helpers for tests.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

namespace sluice::testing {

// An insecure channel to "HOST:PORT" with no message size limits and its own connection
// (a local subchannel pool, so two channels to one address never share a connection).
std::shared_ptr<grpc::Channel> make_channel(const std::string& address);

// The x-backend-id the server sent: from the initial metadata, or for a Trailers-Only reply
// from the trailers. Empty if none. Like ClientContext::GetServerInitialMetadata, call it only
// once the initial metadata arrived (a finished unary call; a stream after its first Read or
// WaitForInitialMetadata).
std::string backend_id(const grpc::ClientContext& ctx);

// Sets the call's deadline `timeout` from now.
inline void set_deadline(grpc::ClientContext& ctx,
                         std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  ctx.set_deadline(std::chrono::system_clock::now() + timeout);
}

// Every value of `key`, in order.
std::vector<std::string> metadata_values(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata, std::string_view key);

}  // namespace sluice::testing
