// sluice: the per-call gRPC proxy. Wiring only: flags -> config -> proxy.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>

#include "config/config.h"
#include "proxy/proxy.h"

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "dev"
#endif

int main(int argc, char** argv) {
  CLI::App app{"sluice: a gRPC load balancer that balances every call, not every connection"};
  std::string config_file, check_file, listen, admin, log_level = "info";
  std::vector<std::string> upstreams;
  uint32_t workers = 0;
  bool version = false;
  app.add_option("--config,-c", config_file, "YAML config file");
  app.add_option("--check", check_file, "validate a config file and exit (non-zero on error)");
  app.add_option("--listen", listen, "quick mode: listen address HOST:PORT");
  app.add_option("--upstream", upstreams, "quick mode: a backend HOST:PORT (repeat)");
  app.add_option("--admin", admin, "admin listener HOST:PORT (overrides the config)");
  app.add_option("--workers", workers, "worker threads (default: config, else cores)");
  // spdlog reads an unknown level as "off": a typo must not silence the logs.
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical, off")
      ->transform(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"},
                                CLI::ignore_case));
  app.add_flag("--version", version, "print the version and exit");
  CLI11_PARSE(app, argc, argv);

  if (version) {
    std::printf("sluice %s\n", SLUICE_VERSION);
    return 0;
  }
  spdlog::set_default_logger(spdlog::stderr_color_mt("sluice"));
  spdlog::set_level(spdlog::level::from_str(log_level));

  if (!check_file.empty()) {
    auto cfg = sluice::config::parse_config_file(check_file);
    if (!cfg) {
      std::fprintf(stderr, "%s\n", cfg.error().to_string().c_str());
      return 1;
    }
    std::printf("%s: OK\n", check_file.c_str());
    return 0;
  }

  sluice::Expected<sluice::config::Config, sluice::config::ConfigError> cfg =
      sluice::Unexpected(sluice::config::ConfigError{"", 0, 0, "", "no configuration"});
  if (!config_file.empty()) {
    cfg = sluice::config::parse_config_file(config_file);
  } else if (!listen.empty()) {
    cfg = sluice::config::quick_config(listen, upstreams);
  } else {
    std::fprintf(stderr, "sluice: give --config FILE, or --listen ADDR with --upstream ADDR...\n%s",
                 app.help().c_str());
    return 2;
  }
  if (!cfg) {
    std::fprintf(stderr, "%s\n", cfg.error().to_string().c_str());
    return 1;
  }
  if (workers > 0) cfg->workers = workers;
  if (!admin.empty()) {
    auto hp = sluice::config::parse_host_port(admin);
    if (!hp) {
      std::fprintf(stderr, "--admin: %s\n", hp.error().c_str());
      return 1;
    }
    cfg->admin.address = *hp;
    cfg->admin.enabled = true;
  }
  std::signal(SIGPIPE, SIG_IGN);
  sluice::proxy::Proxy proxy(std::move(*cfg), config_file);
  return proxy.run();
}
