#include "discovery/resolver.h"

#include "discovery/dns_resolver.h"
#include "discovery/file_resolver.h"
#if SLUICE_HAVE_ETCD
#include "discovery/etcd_resolver.h"
#endif

namespace sluice::discovery {

ResolverRegistry& ResolverRegistry::builtin() {
  static ResolverRegistry* registry = [] {
    auto* r = new ResolverRegistry;
    r->add("file",
           [](asio::io_context& io,
              const config::Discovery& d) -> Expected<std::unique_ptr<Resolver>, std::string> {
             return std::unique_ptr<Resolver>(std::make_unique<FileResolver>(io, d.path));
           });
    r->add("dns",
           [](asio::io_context& io,
              const config::Discovery& d) -> Expected<std::unique_ptr<Resolver>, std::string> {
             auto dns = DnsResolver::create(io, d);
             if (!dns) return Unexpected(dns.error());
             return std::unique_ptr<Resolver>(std::move(*dns));
           });
#if SLUICE_HAVE_ETCD  // not in the fuzz build: no gRPC there (see CMakeLists.txt)
    r->add("etcd", make_etcd_resolver);
#endif
    return r;
  }();
  return *registry;
}

void ResolverRegistry::add(std::string type, ResolverFactory factory) {
  factories_[std::move(type)] = std::move(factory);
}

Expected<std::unique_ptr<Resolver>, std::string> ResolverRegistry::create(
    asio::io_context& io, const config::Discovery& d) const {
  auto it = factories_.find(d.type);
  if (it == factories_.end()) return Unexpected("unknown discovery type \"" + d.type + "\"");
  return it->second(io, d);
}

}  // namespace sluice::discovery
