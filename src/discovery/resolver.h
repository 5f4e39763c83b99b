// Discovery: a Resolver pushes a cluster's full endpoint set whenever it changes. An error
// never replaces a good set: the proxy keeps serving the last one and reports the error.
// Resolvers are made by type through a registry, so users can add their own (see
// docs/discovery.md).
#pragma once

#include <asio/io_context.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/expected.h"
#include "config/config.h"

namespace sluice::discovery {

using EndpointList = std::vector<config::Endpoint>;
using ResolveResult = Expected<EndpointList, std::string>;

class Resolver {
 public:
  using Callback = std::function<void(ResolveResult)>;
  virtual ~Resolver() = default;
  // Starts watching. Runs on the io_context given at creation; the callback runs there too.
  // A resolver that can answer at once (a file) calls back before start() returns.
  virtual void start(Callback on_update) = 0;
  // Where the endpoints come from, for /clusters and logs ("file:/etc/sluice/backends.yaml").
  virtual std::string source() const = 0;
};

using ResolverFactory = std::function<Expected<std::unique_ptr<Resolver>, std::string>(
    asio::io_context&, const config::Discovery&)>;

class ResolverRegistry {
 public:
  // The registry with the built-in types ("file", "dns", "etcd").
  static ResolverRegistry& builtin();
  void add(std::string type, ResolverFactory factory);
  Expected<std::unique_ptr<Resolver>, std::string> create(asio::io_context& io,
                                                          const config::Discovery& d) const;

 private:
  std::map<std::string, ResolverFactory> factories_;
};

}  // namespace sluice::discovery
