#include "proxy/proxy.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <asio.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <random>
#include <thread>

#include "admin/admin_server.h"
#include "admin/prometheus.h"
#include "proxy/admin_pages.h"
#include "proxy/worker.h"

namespace sluice::proxy {

Proxy::Proxy(config::Config config, std::string config_path)
    : config_path_(std::move(config_path)),
      subset_seed_(std::random_device{}()),
      base_config_(std::make_shared<const config::Config>(std::move(config))),
      config_(base_config_),
      snapshot_(Snapshot::build(config_, nullptr, {subset_seed_, &rotations_})),
      discovery_(control_, [this] { publish(); }),
      outlier_(control_, [this] { publish(); }),
      health_(
          control_, [this] { publish(); }, subset_seed_ ^ 0x6865616c7468ull) {}

void Proxy::publish() {
  auto next = std::make_shared<const config::Config>(discovery_.fill(*base_config_));
  const Ejections used = outlier_.ejections();
  auto snapshot = Snapshot::build(next, snapshot_.get(),
                                  {subset_seed_, &rotations_, &used, &health_.verdicts()});
  // Outlier detection and health checks follow the new clusters and endpoints. If that changes
  // a verdict (a cluster dropped or changed its outlier_detection or health_check), build
  // again: no stale ejection or health may ship. The second build shares the first one's stats
  // objects, which the detector and the probes now use.
  outlier_.sync(*snapshot);
  const bool health_changed = health_.sync(*snapshot);
  if (outlier_.ejections() != used || health_changed) {
    snapshot =
        Snapshot::build(next, snapshot.get(),
                        {subset_seed_, &rotations_, &outlier_.ejections(), &health_.verdicts()});
  }
  log_panic_changes(*snapshot);
  for (auto& w : workers_) w->apply(snapshot);
  config_ = std::move(next);
  snapshot_ = std::move(snapshot);
}

void Proxy::log_panic_changes(const Snapshot& after) {
  std::set<std::string> now;
  for (const auto& c : after.clusters) {
    const std::string& name = c.config.name;
    if (!c.panic) {
      if (panicking_.contains(name)) {
        spdlog::info("cluster {}: out of panic, unhealthy endpoints get no calls", name);
      }
      continue;
    }
    now.insert(name);
    if (panicking_.contains(name)) continue;
    size_t healthy = 0, unknown = 0;
    for (const auto& e : c.stats->endpoints) {
      const auto h = static_cast<core::Health>(read(e->health));
      healthy += h == core::Health::kHealthy ? 1 : 0;
      unknown += h == core::Health::kUnknown ? 1 : 0;
    }
    // Before the first checks answer (start, a new cluster) this is expected: info only.
    const bool only_unchecked = healthy + unknown == c.stats->endpoints.size();
    spdlog::log(only_unchecked ? spdlog::level::info : spdlog::level::warn,
                "cluster {}: fewer than {}% of its endpoints are healthy ({} healthy, {} not "
                "checked yet, of {}); balancing over all of them (panic)",
                name, c.config.health_check->panic_threshold, healthy, unknown,
                c.stats->endpoints.size());
  }
  panicking_ = std::move(now);
}

Proxy::~Proxy() {
  for (auto& w : workers_) w->stop();
}

Expected<void, std::string> Proxy::start_workers() {
  size_t n = config_->workers;
  if (n == 0) n = std::max(1u, std::thread::hardware_concurrency());
  std::vector<uint16_t> ports;
  for (size_t i = 0; i < n; ++i) {
    auto worker = std::make_unique<Worker>(i, n, snapshot_, stats_);
    worker->set_failure_reporter([this](const std::string& cluster, const std::string& address) {
      asio::post(control_,
                 [this, cluster, address] { outlier_.on_consecutive_failures(cluster, address); });
    });
    auto bound = worker->listen(ports);
    if (!bound) return Unexpected(bound.error());
    ports = *bound;  // later workers share the ports the first one bound (port 0 included)
    workers_.push_back(std::move(worker));
  }
  for (size_t i = 0; i < config_->listeners.size(); ++i) {
    std::printf("listening on %s:%u\n", config_->listeners[i].address.host.c_str(), ports[i]);
  }
  std::fflush(stdout);
  for (auto& w : workers_) w->start();
  spdlog::info("sluice: {} workers, {} listeners, {} clusters", n, config_->listeners.size(),
               config_->clusters.size());
  return {};
}

Expected<void, std::string> Proxy::reload() {
  auto done = apply_config_file();
  bump(done ? stats_.reloads_ok : stats_.reloads_rejected);
  return done;
}

Expected<void, std::string> Proxy::apply_config_file() {
  if (config_path_.empty()) return Unexpected(std::string("no config file to reload (quick mode)"));
  auto parsed = config::parse_config_file(config_path_);
  if (!parsed) return Unexpected(parsed.error().to_string());
  auto listeners = open_new_listeners(*parsed);  // before anything changes: may fail
  if (!listeners) return Unexpected(config_path_ + ": " + listeners.error());
  // Worker count and admin address take effect at the next start.
  parsed->workers = config_->workers;
  parsed->admin = config_->admin;
  base_config_ = std::make_shared<const config::Config>(std::move(*parsed));
  discovery_.sync(*base_config_);  // new or changed discovery starts here (and may publish)
  publish();  // workers see the new listener settings before the new sockets accept
  switch_listeners(std::move(*listeners));
  schedule_rotations();
  spdlog::info("reloaded {}: {} listeners, {} routes, {} clusters", config_path_,
               config_->listeners.size(), config_->routes.size(), config_->clusters.size());
  return {};
}

namespace {

// Listeners are told apart by name; one whose address changed is a new listener.
bool same_listener(const config::Listener& a, const config::Listener& b) {
  return a.name == b.name && a.address == b.address;
}

bool contains(const std::vector<config::Listener>& list, const config::Listener& l) {
  return std::any_of(list.begin(), list.end(),
                     [&](const config::Listener& x) { return same_listener(x, l); });
}

}  // namespace

Expected<Proxy::ListenerChange, std::string> Proxy::open_new_listeners(const config::Config& next) {
  ListenerChange change;
  for (const auto& l : config_->listeners) {
    if (!contains(next.listeners, l)) change.removed.push_back(l.name);
  }
  for (const auto& l : next.listeners) {
    if (contains(config_->listeners, l)) continue;
    NewListener added{l, l.address.port, {}};
    for (auto& w : workers_) {
      // Every worker binds the same port (SO_REUSEPORT): the first one's, if 0 was asked for.
      auto acceptor = w->open_acceptor(l, added.port);
      if (!acceptor) return Unexpected(acceptor.error());  // the sockets opened so far close
      added.port = (*acceptor)->local_endpoint().port();
      added.acceptors.push_back(std::move(*acceptor));
    }
    change.added.push_back(std::move(added));
  }
  return change;
}

void Proxy::switch_listeners(ListenerChange change) {
  for (const auto& name : change.removed) {
    for (auto& w : workers_) w->remove_listener(name);
    spdlog::info("listener {} removed; its connections drain", name);
  }
  for (auto& added : change.added) {
    for (size_t i = 0; i < workers_.size(); ++i) {
      workers_[i]->add_listener(added.listener.name, std::move(added.acceptors[i]));
    }
    std::printf("listening on %s:%u\n", added.listener.address.host.c_str(), added.port);
    spdlog::info("listener {} added on {}:{}", added.listener.name, added.listener.address.host,
                 added.port);
  }
  std::fflush(stdout);
}

void Proxy::schedule_rotations() {
  for (auto& timer : rotation_timers_) timer->cancel();
  rotation_timers_.clear();
  for (const auto& c : base_config_->clusters) {
    if (c.subset && c.subset->rotate_every.count() > 0) rotate(c.name, c.subset->rotate_every);
  }
}

void Proxy::rotate(const std::string& cluster, std::chrono::milliseconds every) {
  auto& timer = rotation_timers_.emplace_back(std::make_unique<asio::steady_timer>(control_));
  // +-10%: proxies started together do not all rotate (and reconnect) at the same moment.
  timer->expires_after(core::jittered(every, 0.1, random_));
  timer->async_wait([this, cluster, every, t = timer.get()](asio::error_code ec) {
    if (ec) return;
    const auto it = std::find_if(rotation_timers_.begin(), rotation_timers_.end(),
                                 [t](const auto& p) { return p.get() == t; });
    if (it == rotation_timers_.end()) return;  // a reload replaced the timers meanwhile
    std::unique_ptr<asio::steady_timer> self = std::move(*it);  // fired: make room, re-arm
    rotation_timers_.erase(it);
    ++rotations_[cluster];
    spdlog::info("cluster {}: subset rotated (epoch {})", cluster, rotations_[cluster]);
    publish();
    rotate(cluster, every);
  });
}

int Proxy::run() {
  asio::io_context& control = control_;
  discovery_.sync(*base_config_);  // files answer at once, so workers start with endpoints
  // Static names are looked up without blocking; give them a moment (the hosts file answers
  // at once) so the first calls find their addresses.
  const auto names_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (!discovery_.names_answered() && std::chrono::steady_clock::now() < names_deadline) {
    control.run_one_for(std::chrono::milliseconds(50));
  }
  control.restart();
  publish();  // names only as addresses (none if the lookup has not answered)
  if (auto started = start_workers(); !started) {
    spdlog::error("{}", started.error());
    return 1;
  }
  schedule_rotations();

  admin::AdminServer admin(control);
  if (config_->admin.enabled) {
    admin.handle("GET", "/healthz",
                 [](const admin::HttpRequest&) { return admin::text_response(200, "ok"); });
    admin.handle("GET", "/metrics", [this](const admin::HttpRequest&) {
      admin::HttpResponse r;
      r.content_type = std::string(admin::PrometheusWriter::kContentType);
      std::vector<const WorkerFlow*> flows;
      for (const auto& worker : workers_) flows.push_back(&worker->flow());
      r.body = render_metrics(*snapshot_, stats_, discovery_.status(), flows);
      return r;
    });
    admin.handle("GET", "/clusters", [this](const admin::HttpRequest&) {
      admin::HttpResponse r;
      r.content_type = "application/json";
      r.body = render_clusters(*snapshot_, discovery_.status());
      return r;
    });
    admin.handle("POST", "/reload", [this](const admin::HttpRequest&) {
      auto done = reload();
      if (!done) {
        spdlog::error("reload rejected, the running config keeps serving: {}", done.error());
        return admin::text_response(400, "reload rejected: " + done.error());
      }
      return admin::text_response(200, "reloaded");
    });
    auto port = admin.listen(config_->admin.address.host, config_->admin.address.port);
    if (!port) {
      spdlog::error("admin listener on {}: {}", config_->admin.address.to_string(), port.error());
      return 1;
    }
    std::printf("admin listening on %s:%u\n", config_->admin.address.host.c_str(), *port);
    std::fflush(stdout);
  }

  // SIGTERM/SIGINT: stop accepting, GOAWAY every downstream connection, let in-flight calls
  // finish up to the drain timeout, then exit 0.
  asio::signal_set signals(control, SIGTERM, SIGINT);
  asio::signal_set hangup(control, SIGHUP);
  asio::steady_timer drain_timer(control);
  std::chrono::steady_clock::time_point drain_deadline;
  std::function<void()> poll_drain = [&] {
    int64_t open = 0;
    for (auto& w : workers_) open += w->downstream_connections();
    if (open == 0 || std::chrono::steady_clock::now() >= drain_deadline) {
      if (open > 0) spdlog::warn("drain timeout: closing {} connections", open);
      for (auto& w : workers_) w->stop();
      admin.stop();
      hangup.cancel();
      control.stop();
      return;
    }
    drain_timer.expires_after(std::chrono::milliseconds(20));
    drain_timer.async_wait([&](asio::error_code ec) {
      if (!ec) poll_drain();
    });
  };
  signals.async_wait([&](asio::error_code ec, int signo) {
    if (ec) return;
    spdlog::info("signal {}: draining (timeout {} ms)", signo, config_->drain_timeout.count());
    drain_deadline = std::chrono::steady_clock::now() + config_->drain_timeout;
    for (auto& w : workers_) w->drain();
    poll_drain();
  });
  // SIGHUP: reload the config file.
  std::function<void()> wait_hangup = [&] {
    hangup.async_wait([&](asio::error_code ec, int) {
      if (ec) return;
      if (auto done = reload(); !done) {
        spdlog::error("reload rejected, the running config keeps serving: {}", done.error());
      }
      wait_hangup();
    });
  };
  wait_hangup();
  control.run();
  spdlog::info("sluice: stopped");
  return 0;
}

}  // namespace sluice::proxy
