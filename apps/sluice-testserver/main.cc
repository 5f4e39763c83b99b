// sluice-testserver: a real grpc++ backend (sluice.test.v1.TestService + grpc.health.v1) for
// tests, demos and benchmarks. Prints "listening on HOST:PORT" once bound (and, with --register,
// registered in etcd); on SIGTERM/SIGINT it deregisters, shuts down gracefully and prints
// "served N calls: Method=n ...".
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "check_only_health.h"
#include "discovery/etcd_registration.h"
#include "discovery/etcd_url.h"
#include "duration.h"
#include "graceful_shutdown.h"
#include "service_env.h"
#include "test_service.h"

namespace sluice::testserver {
namespace {

struct Options {
  std::string listen = "127.0.0.1:0";
  std::string id;
  std::string max_connection_age;
  std::string max_connection_age_grace;
  std::string shutdown_timeout = "5s";
  std::string register_url;  // etcd://HOST:PORT/PREFIX
  std::string register_ttl = "10s";
  std::string drain_delay = "200ms";
  std::string extra_delay = "0";
  double fail_share = 0;
  int fail_code = 14;
  int threads = 0;
  int max_concurrent_streams = 0;
  std::string health = "watch";  // watch (gRPC's service), check-only, none
  int ports = 1;                 // listening ports (each prints its own line)
};

// Durations checked up front so a typo fails at start, not after the server is up.
struct ParsedDurations {
  std::optional<std::chrono::milliseconds> max_age;
  std::optional<std::chrono::milliseconds> max_age_grace;
  std::chrono::milliseconds shutdown_timeout{};
  std::chrono::seconds register_ttl{};
  std::chrono::milliseconds drain_delay{};
  std::chrono::milliseconds extra_delay{};
};

Expected<ParsedDurations, std::string> parse_durations(const Options& options) {
  ParsedDurations out;
  for (auto [text, slot] : {std::pair{&options.max_connection_age, &out.max_age},
                            std::pair{&options.max_connection_age_grace, &out.max_age_grace}}) {
    if (text->empty()) continue;
    auto d = parse_duration(*text);
    if (!d) return Unexpected(d.error());
    *slot = *d;
  }
  auto shutdown = parse_duration(options.shutdown_timeout);
  if (!shutdown) return Unexpected(shutdown.error());
  out.shutdown_timeout = *shutdown;
  auto ttl = parse_duration(options.register_ttl);
  if (!ttl) return Unexpected(ttl.error());
  // etcd leases count whole seconds.
  out.register_ttl =
      std::max(std::chrono::seconds(1), std::chrono::ceil<std::chrono::seconds>(*ttl));
  auto delay = parse_duration(options.drain_delay);
  if (!delay) return Unexpected(delay.error());
  out.drain_delay = *delay;
  if (options.extra_delay != "0") {
    auto extra = parse_duration(options.extra_delay);
    if (!extra) return Unexpected(extra.error());
    out.extra_delay = *extra;
  }
  return out;
}

// "HOST:PORT" -> "HOST" (keeps IPv6 brackets).
std::string host_of(const std::string& address) {
  const size_t colon = address.rfind(':');
  return colon == std::string::npos ? address : address.substr(0, colon);
}

int run(const Options& options) {
  auto durations = parse_durations(options);
  if (!durations) {
    std::cerr << "sluice-testserver: " << durations.error() << "\n";
    return 2;
  }
  std::optional<discovery::EtcdTarget> etcd;
  if (!options.register_url.empty()) {
    auto target = discovery::parse_etcd_url(options.register_url);
    if (!target) {
      std::cerr << "sluice-testserver: --register: " << target.error() << "\n";
      return 2;
    }
    etcd = std::move(*target);
  }

  // Signals are taken by sigwait() below; block them before gRPC starts its threads so
  // every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  ServiceEnv env;
  env.extra_delay = durations->extra_delay;
  env.fail_share = options.fail_share;
  env.fail_code = options.fail_code;
  TestServiceImpl service(env);
  CheckOnlyHealth check_only;
  grpc::EnableDefaultHealthCheckService(options.health == "watch");

  grpc::ServerBuilder builder;
  std::vector<int> ports(static_cast<size_t>(options.ports), 0);
  for (int& port : ports) {
    builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(), &port);
  }
  builder.RegisterService(&service);
  if (options.health == "check-only") builder.RegisterService(&check_only);
  builder.SetMaxReceiveMessageSize(-1);
  builder.SetMaxSendMessageSize(-1);
  if (durations->max_age) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS,
                               static_cast<int>(durations->max_age->count()));
  }
  if (durations->max_age_grace) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
                               static_cast<int>(durations->max_age_grace->count()));
  }
  if (options.max_concurrent_streams > 0) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, options.max_concurrent_streams);
  }
  if (options.threads > 0) {
    grpc::ResourceQuota quota("sluice-testserver");
    quota.SetMaxThreads(options.threads);
    builder.SetResourceQuota(quota);
  }

  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || std::find(ports.begin(), ports.end(), 0) != ports.end()) {
    std::cerr << "sluice-testserver: cannot listen on " << options.listen << "\n";
    return 1;
  }
  const std::string address = host_of(options.listen) + ":" + std::to_string(ports.front());
  const std::string backend_id = options.id.empty() ? address : options.id;
  env.backend_id.store(&backend_id, std::memory_order_release);
  grpc::HealthCheckServiceInterface* health = nullptr;
  if (options.health == "watch") health = server->GetHealthCheckService();
  if (options.health == "check-only") health = &check_only;
  if (health != nullptr) {
    health->SetServingStatus("", true);
    health->SetServingStatus(sluice::test::v1::TestService::service_full_name(), true);
    env.health.store(health, std::memory_order_release);
  }

  // Registered before "listening on" is printed, so whoever waits for that line finds the key.
  std::unique_ptr<discovery::EtcdRegistration> registration;
  if (etcd) {
    config::Endpoint self;
    if (auto bound = config::parse_host_port(address)) self.address = *bound;
    registration =
        std::make_unique<discovery::EtcdRegistration>(discovery::EtcdRegistration::Options{
            etcd->endpoints, etcd->prefix + backend_id, discovery::etcd_endpoint_value(self),
            durations->register_ttl});
    if (!registration->wait_registered(std::chrono::seconds(5))) {
      std::cerr << "sluice-testserver: not registered in etcd yet, still trying\n";
    }
  }

  for (int port : ports)
    std::cout << "listening on " << host_of(options.listen) << ":" << port << "\n";
  std::cout << std::flush;

  int signal_number = 0;
  while (sigwait(&stop_signals, &signal_number) != 0) {
  }
  // Out of discovery first, so proxies stop sending new calls while the running ones finish.
  if (registration) {
    auto gone = registration->deregister();
    if (!gone) std::cerr << "sluice-testserver: " << gone.error() << "\n";
    // Watchers see the deletion within milliseconds; calls they sent just before it still
    // arrive meanwhile. Draining at once would have gRPC cancel the ones not yet dispatched.
    std::this_thread::sleep_for(durations->drain_delay);
  }
  shutdown_gracefully(*server, env.stats, durations->shutdown_timeout);
  std::cout << env.stats.served_line() << std::endl;
  return 0;
}

}  // namespace
}  // namespace sluice::testserver

int main(int argc, char** argv) {
  sluice::testserver::Options options;
  CLI::App app{"sluice-testserver: gRPC test backend (sluice.test.v1.TestService)"};
  app.add_option("--listen", options.listen, "HOST:PORT to listen on (port 0 = any)")
      ->capture_default_str();
  app.add_option("--id", options.id, "backend id sent in x-backend-id (default: the address)");
  app.add_option("--max-connection-age", options.max_connection_age,
                 "close connections after this age, e.g. 2s, 500ms (GOAWAY)");
  app.add_option("--max-connection-age-grace", options.max_connection_age_grace,
                 "time running calls get after the max-age GOAWAY");
  app.add_option("--shutdown-timeout", options.shutdown_timeout,
                 "on SIGTERM/SIGINT, time running calls get before they are cancelled")
      ->capture_default_str();
  app.add_option("--threads", options.threads,
                 "cap on the threads of this server's gRPC resource quota (0 = gRPC default)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--max-concurrent-streams", options.max_concurrent_streams,
                 "SETTINGS_MAX_CONCURRENT_STREAMS per connection (0 = gRPC default)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--register", options.register_url,
                 "register in etcd as PREFIX/ID (kept alive under a lease, revoked on SIGTERM "
                 "before draining): etcd://HOST:PORT[,HOST:PORT...]/PREFIX");
  app.add_option("--register-ttl", options.register_ttl,
                 "lease TTL of the etcd registration (whole seconds; etcd's minimum is 2s)")
      ->capture_default_str();
  app.add_option("--drain-delay", options.drain_delay,
                 "with --register: on SIGTERM, time between deregistering and draining")
      ->capture_default_str();
  app.add_option("--extra-delay", options.extra_delay,
                 "added to every Unary call's delay_ms (e.g. 200ms: a slow backend)")
      ->capture_default_str();
  app.add_option("--fail-share", options.fail_share,
                 "this share of Unary calls (0-1, spread evenly) fails with --fail-code")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--fail-code", options.fail_code,
                 "gRPC status of the failed calls (14 UNAVAILABLE)")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  app.add_option("--health", options.health,
                 "grpc.health.v1: watch (gRPC's service), check-only (Watch is UNIMPLEMENTED), "
                 "none")
      ->check(CLI::IsMember({"watch", "check-only", "none"}))
      ->capture_default_str();
  app.add_option("--ports", options.ports,
                 "listen on this many ports of --listen's host (port 0 each); one line each")
      ->check(CLI::Range(1, 5000))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  // Logs (the etcd registration's) go to stderr: stdout carries the lines tests read.
  spdlog::set_default_logger(spdlog::stderr_color_mt("sluice-testserver"));
  return sluice::testserver::run(options);
}
