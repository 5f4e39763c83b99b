// sluice-load: a gRPC load generator for sluice-testserver's TestService. Wiring only:
// flags -> LoadSpec -> run_load -> progress lines, summary, JSON.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "config/config.h"
#include "config/scalars.h"
#include "load/load_run.h"
#include "load/report.h"

namespace {

using sluice::load::LoadSpec;

// "250ms", "10s", "2m" -> nanoseconds, or an error naming the flag.
sluice::Expected<std::chrono::nanoseconds, std::string> duration_flag(const std::string& flag,
                                                                      const std::string& text) {
  auto d = sluice::config::parse_duration(text);
  if (!d) return sluice::Unexpected(flag + ": " + d.error());
  return std::chrono::nanoseconds(*d);
}

// "name: value" -> lowercase name and value.
sluice::Expected<std::pair<std::string, std::string>, std::string> metadata_flag(
    const std::string& text) {
  const auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0) {
    return sluice::Unexpected("--metadata: expected \"name: value\", got \"" + text + "\"");
  }
  std::string name = text.substr(0, colon);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string value = text.substr(colon + 1);
  value.erase(0, value.find_first_not_of(' '));
  return std::make_pair(name, value);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "sluice-load: gRPC load for sluice.test.v1.TestService, closed loop (--concurrency) or "
      "open loop (--rate, latency from the intended send time)"};
  LoadSpec spec;
  std::string target, method = "unary", duration = "10s", warmup, interval = "1s", timeout,
                      drain = "5s", hold, json_path, live_path, log_level = "warn";
  std::vector<std::string> metadata;
  bool quiet = false;
  app.add_option("target", target, "HOST:PORT of the proxy or server")->required();
  app.add_option("--method", method, "unary, server_stream, client_stream or bidi_stream");
  app.add_option("--request-size", spec.call.request_size, "payload bytes per request message");
  app.add_option("--response-size", spec.call.response_size, "payload bytes per response message");
  app.add_option("--messages", spec.call.messages, "stream methods: messages per call");
  app.add_option("--delay-ms", spec.call.delay_ms, "the backend waits this long per call");
  app.add_option("--status-code", spec.call.status_code,
                 "the backend ends every call with this gRPC status (errors on purpose)")
      ->check(CLI::Range(0, 16));
  app.add_option("--connections,-c", spec.connections, "HTTP/2 connections in total (default 1)");
  app.add_option("--threads,-t", spec.threads, "threads, each with its share of connections");
  app.add_option("--concurrency,-n", spec.concurrency, "closed loop: calls in flight in total");
  app.add_option("--rate,-r", spec.rate, "open loop: calls per second in total");
  app.add_option("--duration,-d", duration, "how long to send (default 10s)");
  app.add_option("--calls", spec.max_calls, "stop after this many calls");
  app.add_option("--warmup", warmup, "calls finishing earlier count only in the series");
  app.add_option("--interval", interval, "progress and series interval (default 1s)");
  app.add_option("--timeout", timeout, "grpc-timeout sent with every call (default none)");
  app.add_option("--drain", drain, "how long calls in flight may finish after the run");
  app.add_option("--hold", hold,
                 "after the last call, keep the connections open and idle this long");
  app.add_option("--metadata,-H", metadata, "request metadata \"name: value\" (repeat)");
  app.add_option("--authority", spec.authority, ":authority (default HOST:PORT)");
  app.add_option("--json", json_path, "write the result as JSON to this file ('-' = stdout)");
  app.add_option("--live", live_path, "append one JSON line per interval to this file");
  app.add_flag("--quiet,-q", quiet, "no progress lines");
  // spdlog reads an unknown level as "off": a typo must not silence the logs.
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical, off")
      ->transform(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"},
                                CLI::ignore_case));
  CLI11_PARSE(app, argc, argv);
  spdlog::set_default_logger(spdlog::stderr_color_mt("sluice-load"));
  spdlog::set_level(spdlog::level::from_str(log_level));

  auto fail = [](const std::string& message) {
    std::fprintf(stderr, "sluice-load: %s\n", message.c_str());
    return 2;
  };
  auto address = sluice::config::parse_host_port(target);
  if (!address || address->port == 0) return fail("target: expected HOST:PORT, got " + target);
  spec.host = address->host;
  spec.port = address->port;
  auto parsed_method = sluice::load::parse_method(method);
  if (!parsed_method) return fail("--method: unknown method \"" + method + "\"");
  spec.call.method = *parsed_method;
  for (auto [flag, text, out] :
       {std::tuple{"--duration", &duration, &spec.duration},
        std::tuple{"--warmup", &warmup, &spec.warmup},
        std::tuple{"--interval", &interval, &spec.interval},
        std::tuple{"--drain", &drain, &spec.drain}, std::tuple{"--hold", &hold, &spec.hold}}) {
    if (text->empty()) continue;  // not given: the default
    auto d = duration_flag(flag, *text);
    if (!d) return fail(d.error());
    *out = *d;
  }
  if (!timeout.empty()) {
    auto t = duration_flag("--timeout", timeout);
    if (!t) return fail(t.error());
    spec.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*t);
  }
  if (spec.interval.count() <= 0) return fail("--interval: must be more than 0");
  if (spec.connections == 0) return fail("--connections: must be at least 1");
  if (spec.rate < 0) return fail("--rate: must not be negative");
  if (spec.rate == 0 && spec.concurrency == 0) return fail("--concurrency: must be at least 1");
  for (const auto& m : metadata) {
    auto kv = metadata_flag(m);
    if (!kv) return fail(kv.error());
    spec.metadata.push_back(*kv);
  }

  std::ofstream live;
  if (!live_path.empty()) {
    live.open(live_path, std::ios::app);
    if (!live) return fail("--live: cannot open " + live_path);
  }
  auto result = sluice::load::run_load(
      spec,
      [&](const sluice::load::SeriesPoint& p) {
        if (!quiet) std::fprintf(stderr, "%s\n", sluice::load::progress_line(p, spec).c_str());
        if (live.is_open()) live << sluice::load::point_json(p).dump() << std::endl;
      },
      [&] {
        // A line to wait for: the target's memory can be read now.
        std::printf("holding %u connections idle for %s\n", spec.connections, hold.c_str());
        std::fflush(stdout);
      });
  if (!result) return fail(result.error());

  const std::string summary = sluice::load::summary_text(spec, *result);
  std::fputs(summary.c_str(), json_path == "-" ? stderr : stdout);
  if (!json_path.empty()) {
    const std::string json = sluice::load::run_json(spec, *result).dump(2) + "\n";
    if (json_path == "-") {
      std::fputs(json.c_str(), stdout);
    } else {
      std::ofstream out(json_path);
      out << json;
      if (!out) return fail("--json: cannot write " + json_path);
    }
  }
  return 0;
}
