// Time to fair share after scale-out: 3 backends under steady load over one client channel,
// then 5 more appear. Measured from the membership change until every new backend has >= 80%
// of its fair share (1/8 of the calls) in a sliding 200 ms window, per discovery source:
//   sluice with file discovery (the endpoints file rewritten by a rename);
//   sluice with etcd discovery (a real etcd; 5 keys put);
//   sluice with dns discovery (a real dnsmasq; the name gets 5 more A records);
//   a grpc++ client resolving the same name itself: gRPC's c-ares resolver, round_robin.
// Through sluice the client talks over one connection. gRPC re-resolves only when a
// connection breaks, so the last may never get there within the bounded run: reported as
// "not within N s".
//
// Prints a table and writes JSON to bench-out/bench_fair_share.json (or --benchmark_out=FILE,
// as `make bench` passes; other --benchmark_* flags are ignored).
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "integration/recording_load.h"
#include "integration/sluice_process.h"
#include "support/dns_server.h"
#include "support/etcd_server.h"
#include "support/grpc_helpers.h"
#include "support/loopback_backends.h"

namespace sluice::bench {
namespace {

using namespace std::chrono_literals;
using testing::DnsServer;
using testing::EtcdServer;
using testing::LoopbackBackends;
using testing::RecordingLoad;
using testing::SluiceProcess;
using Clock = RecordingLoad::Clock;

constexpr char kName[] = "backends.sluice.test";
constexpr int kBefore = 3;
constexpr int kAfter = 8;
constexpr auto kWindow = 200ms;
constexpr auto kStep = 10ms;
constexpr double kFairShareFraction = 0.8;

struct Options {
  int runs = 3;
  int observe_s = 3;  // how long after the change to wait for fair share
  int ttl_s = 1;      // dnsmasq's TTL
  int min_refresh_ms = 500;
  int threads = 16;  // closed-loop callers on the one channel
  int delay_ms = 2;  // server-side time per call
  std::string out = "bench-out/bench_fair_share.json";
};

struct Scenario {
  std::string name;
  std::vector<std::optional<double>> seconds;  // per run; nullopt: not within observe_s
  double calls_per_s = 0;                      // mean over runs, for context
};

bool parse_int(const std::string& arg, const std::string& flag, int& out) {
  if (arg.rfind(flag + "=", 0) != 0) return false;
  out = std::atoi(arg.c_str() + flag.size() + 1);
  return true;
}

std::optional<Options> parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (parse_int(a, "--runs", o.runs) || parse_int(a, "--observe", o.observe_s) ||
        parse_int(a, "--ttl", o.ttl_s) || parse_int(a, "--min-refresh-ms", o.min_refresh_ms) ||
        parse_int(a, "--threads", o.threads) || parse_int(a, "--delay-ms", o.delay_ms)) {
      continue;
    }
    if (a.rfind("--benchmark_out=", 0) == 0) {
      o.out = a.substr(16);
    } else if (a.rfind("--benchmark_", 0) != 0) {
      std::fprintf(stderr,
                   "usage: %s [--runs=N] [--observe=S] [--ttl=S] [--min-refresh-ms=MS] "
                   "[--threads=N] [--delay-ms=MS] [--benchmark_out=FILE]\n",
                   argv[0]);
      return std::nullopt;
    }
  }
  if (o.runs < 1 || o.observe_s < 1 || o.ttl_s < 0 || o.threads < 1) return std::nullopt;
  return o;
}

// The first time after `changed` at which the 200 ms window ending there gives every new
// backend >= 80% of 1/8 of the calls; nullopt if none up to `until`.
std::optional<Clock::duration> fair_share_at(RecordingLoad& load, Clock::time_point changed,
                                             Clock::time_point until) {
  for (auto t = changed + kWindow; t <= until; t += kStep) {
    auto counts = load.between(t - kWindow, t);
    int total = 0;
    for (const auto& [id, n] : counts) total += n;
    bool fair = total > 0;
    for (int i = kBefore; fair && i < kAfter; ++i) {
      fair = counts[LoopbackBackends::id(i)] >= kFairShareFraction * total / kAfter;
    }
    if (fair) return t - changed;
  }
  return std::nullopt;
}

// One run: 3 backends known, the client warmed up on them, then `scale_out` makes it 8; how
// long until fair share.
std::optional<double> measure(const Options& o, const std::function<bool()>& scale_out,
                              const std::function<std::shared_ptr<grpc::Channel>()>& channel,
                              double& calls_per_s) {
  RecordingLoad load(channel(), o.threads, static_cast<uint32_t>(o.delay_ms));
  // 1 s of warm-up, plus a random part of the refresh period: the change must not land at the
  // same phase of the resolver's cycle in every run.
  std::uniform_int_distribution<int> phase(0, o.ttl_s * 1100 + o.min_refresh_ms);
  std::random_device seed;
  std::this_thread::sleep_for(1s + std::chrono::milliseconds(phase(seed)));
  const auto changed = Clock::now();
  if (!scale_out()) return std::nullopt;
  const auto deadline = changed + std::chrono::seconds(o.observe_s);
  std::optional<Clock::duration> found;
  while (!found && Clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
    found = fair_share_at(load, changed, std::min(Clock::now(), deadline));
  }
  const auto end = Clock::now();
  const size_t calls = load.succeeded();
  load.stop();
  calls_per_s =
      static_cast<double>(calls) / std::chrono::duration<double>(end - changed + 1s).count();
  if (!load.failures().empty()) {
    std::fprintf(stderr, "%zu calls failed, first: %s\n", load.failures().size(),
                 load.failures().front().c_str());
  }
  if (!found) return std::nullopt;
  return std::chrono::duration<double>(*found).count();
}

bool back_to_three(DnsServer& dns) {
  auto set = dns.set_addresses(kName, LoopbackBackends::hosts(0, kBefore));
  if (!set) std::fprintf(stderr, "%s\n", set.error().c_str());
  return static_cast<bool>(set);
}

// Until sluice's /clusters lists exactly `n` endpoints.
bool wait_for_endpoints(const SluiceProcess& proxy, size_t n, std::chrono::seconds timeout) {
  for (auto deadline = Clock::now() + timeout; Clock::now() < deadline;
       std::this_thread::sleep_for(20ms)) {
    auto clusters = proxy.admin_get("/clusters");
    if (!clusters) continue;
    size_t count = 0;
    for (size_t at = clusters->find("\"address\": \"127.0.0."); at != std::string::npos;
         at = clusters->find("\"address\": \"127.0.0.", at + 1)) {
      ++count;
    }
    if (count == n) return true;
  }
  return false;
}

// The endpoints file of the file scenario, written by a rename as deploy tools do.
bool write_endpoints_file(const std::string& path, int count, uint16_t port) {
  {
    std::ofstream out(path + ".tmp");
    for (const auto& host : LoopbackBackends::hosts(0, count)) {
      out << "- " << host << ":" << port << "\n";
    }
    if (!out) return false;
  }
  return std::rename((path + ".tmp").c_str(), path.c_str()) == 0;
}

// etcd keys of the etcd scenario: backends [0, count) present, the rest absent.
bool set_etcd_members(EtcdServer& etcd, int count, uint16_t port) {
  for (int i = 0; i < kAfter; ++i) {
    const std::string key = "/sluice/bench/" + LoopbackBackends::id(i);
    auto done = i < count ? etcd.put(key, LoopbackBackends::host(i) + ":" + std::to_string(port))
                          : etcd.remove(key);
    if (!done) {
      std::fprintf(stderr, "etcd: %s\n", done.error().c_str());
      return false;
    }
  }
  return true;
}

// Runs `o.runs` measurements through a sluice started on `discovery` (a YAML flow mapping):
// before each, `reset` goes back to 3 backends and sluice is seen to have 3.
Expected<Scenario, std::string> through_sluice(const Options& o, const std::string& name,
                                               const std::string& discovery,
                                               const std::function<bool()>& reset,
                                               const std::function<bool()>& scale_out) {
  if (!reset()) return Unexpected(name + ": cannot set up 3 backends");
  auto proxy = SluiceProcess::start(SluiceProcess::discovery_config(discovery));
  if (!proxy) return Unexpected(name + ": " + proxy.error());
  Scenario s{name, {}, 0};
  for (int r = 0; r < o.runs; ++r) {
    if (!reset() || !wait_for_endpoints(*proxy, kBefore, 10s)) {
      return Unexpected(name + ": sluice did not go back to 3 endpoints");
    }
    double rate = 0;
    s.seconds.push_back(measure(
        o, scale_out, [&] { return testing::make_channel(proxy->address()); }, rate));
    s.calls_per_s += rate / o.runs;
  }
  return s;
}

std::string seconds_text(const std::optional<double>& s, int observe_s) {
  char buf[64];
  if (s) {
    std::snprintf(buf, sizeof buf, "%.2f s", *s);
  } else {
    std::snprintf(buf, sizeof buf, "not within %d s", observe_s);
  }
  return buf;
}

void write_json(const Options& o, const std::vector<Scenario>& scenarios) {
  const auto slash = o.out.rfind('/');
  if (slash != std::string::npos) mkdir(o.out.substr(0, slash).c_str(), 0755);
  std::ofstream out(o.out);
  out << "{\n  \"benchmark\": \"fair_share\",\n"
      << "  \"description\": \"seconds from a scale-out " << kBefore << " -> " << kAfter
      << " until every new backend has >= 80% of its fair share over a sliding 200 ms "
         "window; null: not within observe_s\",\n"
      << "  \"ttl_s\": " << o.ttl_s << ", \"observe_s\": " << o.observe_s
      << ", \"min_refresh_ms\": " << o.min_refresh_ms << ", \"threads\": " << o.threads
      << ", \"delay_ms\": " << o.delay_ms << ",\n  \"results\": [\n";
  for (size_t i = 0; i < scenarios.size(); ++i) {
    const auto& s = scenarios[i];
    out << "    {\"client\": \"" << s.name
        << "\", \"calls_per_s\": " << static_cast<int>(s.calls_per_s) << ", \"seconds\": [";
    for (size_t r = 0; r < s.seconds.size(); ++r) {
      if (r > 0) out << ", ";
      if (s.seconds[r]) {
        out << *s.seconds[r];
      } else {
        out << "null";
      }
    }
    out << "]}" << (i + 1 < scenarios.size() ? "," : "") << "\n";
  }
  out << "  ]\n}\n";
}

int run(const Options& o) {
  auto backends = LoopbackBackends::start(kAfter);
  if (!backends) return std::fprintf(stderr, "%s\n", backends.error().c_str()), 1;
  auto dns = DnsServer::start(o.ttl_s);
  if (!dns) return std::fprintf(stderr, "%s\n", dns.error().c_str()), 1;
  if (!back_to_three(*dns)) return 1;
  const std::string name = std::string(kName) + ":" + std::to_string(backends->port());

  const uint16_t port = backends->port();
  auto dns_scale_out = [&] {
    auto set = dns->set_addresses(kName, LoopbackBackends::hosts(0, kAfter));
    if (!set) std::fprintf(stderr, "%s\n", set.error().c_str());
    return static_cast<bool>(set);
  };
  std::vector<Scenario> scenarios;
  auto add = [&](Expected<Scenario, std::string> s) {
    if (!s) {
      std::fprintf(stderr, "%s\n", s.error().c_str());
      return false;
    }
    scenarios.push_back(std::move(*s));
    return true;
  };
  {
    const std::string file = "/tmp/sluice-fair-share-" + std::to_string(getpid()) + ".yaml";
    const bool ok = add(through_sluice(
        o, "sluice file discovery", "{type: file, path: " + file + "}",
        [&] { return write_endpoints_file(file, kBefore, port); },
        [&] { return write_endpoints_file(file, kAfter, port); }));
    std::remove(file.c_str());
    if (!ok) return 1;
  }
  {
    auto etcd = EtcdServer::start();
    if (!etcd) return std::fprintf(stderr, "%s\n", etcd.error().c_str()), 1;
    if (!add(through_sluice(
            o, "sluice etcd discovery",
            "{type: etcd, endpoints: [\"" + (*etcd)->endpoint() + "\"], prefix: /sluice/bench/}",
            [&] { return set_etcd_members(**etcd, kBefore, port); },
            [&] { return set_etcd_members(**etcd, kAfter, port); }))) {
      return 1;
    }
  }
  if (!add(through_sluice(
          o, "sluice dns discovery (min_refresh " + std::to_string(o.min_refresh_ms) + "ms)",
          "{type: dns, name: \"" + name + "\", server: \"" + dns->address() +
              "\", min_refresh: " + std::to_string(o.min_refresh_ms) + "ms, max_refresh: 30s}",
          [&] { return back_to_three(*dns); }, dns_scale_out))) {
    return 1;
  }
  {
    const std::string target = "dns://" + dns->address() + "/" + name;
    Scenario s{"grpc++ dns resolver + round_robin", {}, 0};
    for (int r = 0; r < o.runs; ++r) {
      if (!back_to_three(*dns)) return 1;
      double rate = 0;
      s.seconds.push_back(measure(
          o, dns_scale_out,
          [&] {
            grpc::ChannelArguments args;
            args.SetServiceConfigJSON(R"({"loadBalancingConfig":[{"round_robin":{}}]})");
            args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
            return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
          },
          rate));
      s.calls_per_s += rate / o.runs;
    }
    scenarios.push_back(std::move(s));
  }

  std::printf(
      "time to fair share after scale-out %d -> %d (DNS TTL %d s; every new backend >= "
      "80%% of 1/%d of the calls over a sliding 200 ms window)\n",
      kBefore, kAfter, o.ttl_s, kAfter);
  std::printf("%-42s %10s", "client", "calls/s");
  for (int r = 0; r < o.runs; ++r) std::printf("  %16s", ("run " + std::to_string(r + 1)).c_str());
  std::printf("\n");
  for (const auto& s : scenarios) {
    std::printf("%-42s %10.0f", s.name.c_str(), s.calls_per_s);
    for (const auto& v : s.seconds) std::printf("  %16s", seconds_text(v, o.observe_s).c_str());
    std::printf("\n");
  }
  write_json(o, scenarios);
  std::printf("wrote %s\n", o.out.c_str());
  return 0;
}

}  // namespace
}  // namespace sluice::bench

int main(int argc, char** argv) {
  // gRPC's c-ares resolver is the one that honours the DNS server in a dns://SERVER/ target.
  setenv("GRPC_DNS_RESOLVER", "ares", 1);
  auto options = sluice::bench::parse(argc, argv);
  if (!options) return 2;
  return sluice::bench::run(*options);
}
