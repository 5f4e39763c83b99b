#include "load/load_run.h"

#include <sys/resource.h>

#include <asio/ip/tcp.hpp>
#include <memory>
#include <thread>

#include "load/collector.h"
#include "load/load_worker.h"

namespace sluice::load {
namespace {

using Clock = std::chrono::steady_clock;

double cpu_seconds_now() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

Expected<asio::ip::tcp::endpoint, std::string> resolve(const LoadSpec& spec) {
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  asio::error_code ec;
  auto results = resolver.resolve(spec.host, std::to_string(spec.port), ec);
  if (ec || results.empty()) {
    return Unexpected("cannot resolve " + spec.host + ": " + (ec ? ec.message() : "no address"));
  }
  return results.begin()->endpoint();
}

// Splits `total` as evenly as possible: part `i` of `parts`.
uint64_t share_of(uint64_t total, uint32_t parts, uint32_t i) {
  return total / parts + (i < total % parts ? 1 : 0);
}

SeriesPoint point_of(size_t index, const Tally& t, const LoadSpec& spec) {
  SeriesPoint p;
  p.end_s = std::chrono::duration<double>(spec.interval * (index + 1)).count();
  p.calls = t.calls;
  p.errors = t.errors();
  p.p50_ms = static_cast<double>(t.latency_ns.percentile(50)) / 1e6;
  p.p99_ms = static_cast<double>(t.latency_ns.percentile(99)) / 1e6;
  p.backends.insert(t.by_backend.begin(), t.by_backend.end());
  return p;
}

}  // namespace

Expected<RunResult, std::string> run_load(const LoadSpec& spec, const ProgressCallback& progress,
                                          const std::function<void()>& on_hold) {
  auto target = resolve(spec);
  if (!target) return Unexpected(target.error());
  // Every thread gets at least one connection, one call in flight and one call to make.
  uint64_t threads64 = std::min(spec.threads, spec.connections);
  if (spec.rate <= 0) threads64 = std::min<uint64_t>(threads64, spec.concurrency);
  if (spec.max_calls > 0) threads64 = std::min(threads64, spec.max_calls);
  const auto threads = static_cast<uint32_t>(std::max<uint64_t>(1, threads64));
  Collector collector(threads);
  std::vector<std::unique_ptr<LoadWorker>> workers;
  for (uint32_t i = 0; i < threads; ++i) {
    WorkerShare share{i, threads, static_cast<uint32_t>(share_of(spec.connections, threads, i)),
                      static_cast<uint32_t>(share_of(spec.concurrency, threads, i)),
                      share_of(spec.max_calls, threads, i)};
    workers.push_back(std::make_unique<LoadWorker>(spec, share, *target, collector));
  }
  std::vector<std::thread> running;
  for (auto& w : workers) running.emplace_back([&w] { w->run(); });

  // Every connection is up (or failed once) before the clock starts, so the open-loop
  // schedule does not begin with a backlog of connect time.
  const auto connect_deadline = Clock::now() + spec.connect_timeout + std::chrono::seconds(1);
  auto settled = [&] {
    return std::all_of(workers.begin(), workers.end(),
                       [](const auto& w) { return w->connected_or_failed(); });
  };
  while (!settled() && Clock::now() < connect_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::string connect_error;
  for (auto& w : workers) {
    if (auto e = w->connect_error(); !e.empty()) connect_error = e;
  }
  if (!connect_error.empty() || !settled()) {
    for (auto& w : workers) w->stop();
    for (auto& t : running) t.join();
    return Unexpected("cannot connect to " + spec.host + ":" + std::to_string(spec.port) + ": " +
                      (connect_error.empty() ? "timed out" : connect_error));
  }

  const double cpu_before = cpu_seconds_now();
  const Clock::time_point start = Clock::now();
  for (auto& w : workers) w->begin(start);
  RunResult result{};
  result.started_at =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  for (size_t k = 0;; ++k) {
    // A worker stuck far behind does not hold the line back for ever.
    const auto until = start + spec.interval * (k + 1) + spec.drain + std::chrono::seconds(1);
    auto tally = collector.take(k, until);
    if (!tally) break;
    result.calls_all += tally->calls;
    result.series.push_back(point_of(k, *tally, spec));
    if (progress) progress(result.series.back());
  }
  const Clock::time_point end = std::min(Clock::now(), start + spec.duration);
  if (spec.hold.count() > 0 && on_hold) on_hold();
  for (auto& t : running) t.join();
  result.cpu_seconds = cpu_seconds_now() - cpu_before;
  result.summary = collector.summary();
  result.unfinished = collector.unfinished();
  result.seconds = std::max(0.0, std::chrono::duration<double>(end - start - spec.warmup).count());
  return result;
}

}  // namespace sluice::load
