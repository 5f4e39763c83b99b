#include "load/report.h"

#include <fmt/format.h>

#include "http2/grpc/status.h"

namespace sluice::load {
namespace {

double ms(uint64_t ns) { return static_cast<double>(ns) / 1e6; }

std::string mode_text(const LoadSpec& spec) {
  if (spec.rate > 0) return fmt::format("open loop at {:g} calls/s", spec.rate);
  return fmt::format("closed loop, {} calls in flight", spec.concurrency);
}

// The whole run's CPU over every call it made (the warmup's too: its CPU is in the figure).
double cpu_us_per_call(const RunResult& r) {
  return r.calls_all ? r.cpu_seconds * 1e6 / static_cast<double>(r.calls_all) : 0.0;
}

double per_second(const RunResult& r) {
  return r.seconds > 0 ? static_cast<double>(r.summary.calls) / r.seconds : 0.0;
}

}  // namespace

std::string progress_line(const SeriesPoint& p, const LoadSpec& spec) {
  const double seconds = std::chrono::duration<double>(spec.interval).count();
  std::string line =
      fmt::format("{:6.1f}s {:8.0f} calls/s  p50 {:7.2f} ms  p99 {:7.2f} ms  errors {}", p.end_s,
                  static_cast<double>(p.calls) / seconds, p.p50_ms, p.p99_ms, p.errors);
  if (!p.backends.empty()) line += "  |";
  for (const auto& [backend, n] : p.backends) line += fmt::format("  {} {}", backend, n);
  return line;
}

std::string summary_text(const LoadSpec& spec, const RunResult& r) {
  const Tally& t = r.summary;
  std::string out = fmt::format("sluice-load: {}:{} {}, {}, {} connection(s), {} thread(s)\n",
                                spec.host, spec.port, method_path(spec.call.method),
                                mode_text(spec), spec.connections, spec.threads);
  out += fmt::format(
      "  calls       {} in {:.2f} s = {:.1f} calls/s; ok {}, errors {}, unfinished {}\n", t.calls,
      r.seconds, per_second(r), t.ok(), t.errors(), r.unfinished);
  const Histogram& h = t.latency_ns;
  out += fmt::format(
      "  latency     p50 {:.3f} ms  p90 {:.3f} ms  p99 {:.3f} ms  p99.9 {:.3f} ms  max {:.3f} ms\n",
      ms(h.percentile(50)), ms(h.percentile(90)), ms(h.percentile(99)), ms(h.percentile(99.9)),
      ms(h.max()));
  out += "  status     ";
  for (size_t i = 0; i < t.by_status.size(); ++i) {
    if (t.by_status[i] == 0) continue;
    out +=
        fmt::format(" {} {}", wire::status_name(static_cast<wire::StatusCode>(i)), t.by_status[i]);
  }
  out += "\n  backends   ";
  for (const auto& [backend, n] : t.by_backend) {
    out +=
        fmt::format(" {} {} ({:.1f}%)", backend, n,
                    t.calls ? 100.0 * static_cast<double>(n) / static_cast<double>(t.calls) : 0.0);
  }
  out += fmt::format("\n  client cpu  {:.2f} s, {:.2f} us per call\n", r.cpu_seconds,
                     cpu_us_per_call(r));
  return out;
}

nlohmann::json point_json(const SeriesPoint& p) {
  return {{"t", p.end_s},       {"calls", p.calls},   {"errors", p.errors},
          {"p50_ms", p.p50_ms}, {"p99_ms", p.p99_ms}, {"backends", p.backends}};
}

nlohmann::json run_json(const LoadSpec& spec, const RunResult& r) {
  const Tally& t = r.summary;
  const Histogram& h = t.latency_ns;
  nlohmann::json status = nlohmann::json::object();
  for (size_t i = 0; i < t.by_status.size(); ++i) {
    if (t.by_status[i] > 0) {
      status[std::string(wire::status_name(static_cast<wire::StatusCode>(i)))] = t.by_status[i];
    }
  }
  nlohmann::json series = nlohmann::json::array();
  for (const auto& p : r.series) series.push_back(point_json(p));
  return {
      {"target", spec.host + ":" + std::to_string(spec.port)},
      {"method", method_path(spec.call.method)},
      {"mode", spec.rate > 0 ? "open" : "closed"},
      {"rate", spec.rate},
      {"concurrency", spec.concurrency},
      {"connections", spec.connections},
      {"threads", spec.threads},
      {"request_size", spec.call.request_size},
      {"response_size", spec.call.response_size},
      {"started_at", r.started_at},
      {"seconds", r.seconds},
      {"calls", t.calls},
      {"calls_per_second", per_second(r)},
      {"ok", t.ok()},
      {"errors", t.errors()},
      {"unfinished", r.unfinished},
      {"status", status},
      {"latency_ms",
       {{"min", ms(h.min())},
        {"mean", h.mean() / 1e6},
        {"p50", ms(h.percentile(50))},
        {"p90", ms(h.percentile(90))},
        {"p99", ms(h.percentile(99))},
        {"p99.9", ms(h.percentile(99.9))},
        {"max", ms(h.max())}}},
      {"backends", t.by_backend},
      {"cpu_seconds", r.cpu_seconds},
      {"cpu_us_per_call", cpu_us_per_call(r)},
      {"interval_s", std::chrono::duration<double>(spec.interval).count()},
      {"series", series},
  };
}

}  // namespace sluice::load
