#include "proxy/worker.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>

#include "proxy/call.h"

namespace sluice::proxy {
namespace {
using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

uint64_t seed_for(size_t index) {
  return static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
         (0x9e3779b97f4a7c15ull * (index + 1));
}
}  // namespace

Worker::Worker(size_t index, size_t worker_count, std::shared_ptr<const Snapshot> snapshot,
               ProxyStats& stats)
    : index_(index),
      worker_count_(worker_count),
      snapshot_(std::move(snapshot)),
      stats_(stats),
      random_(seed_for(index)) {
  apply_limits();
  build_clusters();
}

void Worker::apply_limits() {
  buffer_budget_ =
      static_cast<int64_t>(snapshot_->config->http2.max_buffered_bytes / worker_count_);
}

void Worker::build_clusters() {
  clusters_ =
      build_cluster_states(snapshot_, clusters_, io_.get_executor(), random_, flow_.upstream);
}

void Worker::apply(std::shared_ptr<const Snapshot> snapshot) {
  asio::post(io_, [this, snapshot = std::move(snapshot)] {
    snapshot_ = snapshot;
    apply_limits();
    build_clusters();
  });
}

Worker::~Worker() { stop(); }

Expected<Worker::Acceptor, std::string> Worker::open_acceptor(const config::Listener& l,
                                                              uint16_t port) {
  asio::error_code ec;
  auto ip = asio::ip::make_address(l.address.host, ec);
  if (ec) return Unexpected("listener " + l.name + ": bad address " + l.address.host);
  asio::ip::tcp::endpoint ep(ip, port);
  auto acceptor = std::make_unique<asio::ip::tcp::acceptor>(io_);
  acceptor->open(ep.protocol(), ec);
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->set_option(ReusePort(true), ec);
  if (!ec) acceptor->bind(ep, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return Unexpected("listener " + l.name + " on " + l.address.to_string() + ": " + ec.message());
  return acceptor;
}

Expected<std::vector<uint16_t>, std::string> Worker::listen(const std::vector<uint16_t>& ports) {
  std::vector<uint16_t> bound;
  const auto& listeners = snapshot_->config->listeners;
  for (size_t i = 0; i < listeners.size(); ++i) {
    auto acceptor =
        open_acceptor(listeners[i], i < ports.size() ? ports[i] : listeners[i].address.port);
    if (!acceptor) return Unexpected(acceptor.error());
    bound.push_back((*acceptor)->local_endpoint().port());
    listening_[listeners[i].name] = {next_generation_++, std::move(*acceptor)};
  }
  return bound;
}

void Worker::start() {
  for (const auto& [name, l] : listening_) accept(name, l.generation);
  thread_ = std::thread([this] { run_loop(); });
}

void Worker::run_loop() {
  auto guard = asio::make_work_guard(io_);
  while (true) {
    try {
      io_.run();
      return;
    } catch (const std::exception& e) {
      // nghttp2 callbacks are guarded; this is one of our handlers. Say so loudly, keep
      // serving the other connections.
      bump(stats_.worker_exceptions);
      spdlog::error("worker {}: exception in the event loop: {}", index_, e.what());
    } catch (...) {
      bump(stats_.worker_exceptions);
      spdlog::error("worker {}: unknown exception in the event loop", index_);
    }
  }
}

void Worker::add_listener(const std::string& name, Acceptor acceptor) {
  asio::post(io_, [this, name, a = std::make_shared<Acceptor>(std::move(acceptor))]() mutable {
    if (draining_) return;
    const uint64_t generation = next_generation_++;
    listening_[name] = {generation, std::move(*a)};
    accept(name, generation);
  });
}

void Worker::remove_listener(const std::string& name) {
  asio::post(io_, [this, name] {
    auto it = listening_.find(name);
    if (it != listening_.end()) {
      asio::error_code ec;
      it->second.acceptor->close(ec);  // the pending accept ends with operation_aborted
      listening_.erase(it);
    }
    for (auto& [ptr, d] : downstream_) {
      if (d.listener == name) d.conn->begin_shutdown();
    }
  });
}

void Worker::accept(const std::string& listener, uint64_t generation) {
  auto& acceptor = *listening_.at(listener).acceptor;
  acceptor.async_accept(
      [this, listener, generation](asio::error_code ec, asio::ip::tcp::socket socket) {
        auto it = listening_.find(listener);
        if (draining_ || it == listening_.end() || it->second.generation != generation ||
            !it->second.acceptor->is_open()) {
          return;  // removed (or replaced) by a reload, or draining
        }
        if (!ec) {
          accept_backoff_ = std::chrono::milliseconds(0);
          // The listener's settings as of now: a reload changes them for new connections.
          const auto& listeners = snapshot_->config->listeners;
          auto l = std::find_if(listeners.begin(), listeners.end(),
                                [&](const config::Listener& x) { return x.name == listener; });
          if (l != listeners.end()) {
            if (at_connection_limit(*l)) {
              bump(stats_.connections_rejected);
              asio::error_code ignored;
              socket.close(ignored);  // at once: a client waiting in the backlog learns nothing
            } else {
              serve(*l, std::move(socket));
            }
          }
        } else if (ec != asio::error::operation_aborted) {
          // Out of file descriptors or memory: the pending connection stays in the backlog,
          // so accepting again at once would spin. Pause, growing up to 1 s.
          bump(stats_.accept_errors);
          accept_backoff_ = std::clamp(accept_backoff_ * 2, std::chrono::milliseconds(10),
                                       std::chrono::milliseconds(1000));
          if (accept_backoff_ == std::chrono::milliseconds(10) ||
              accept_backoff_ == std::chrono::milliseconds(1000)) {
            spdlog::warn("worker {}: accept failed: {}; retrying in {} ms", index_, ec.message(),
                         accept_backoff_.count());
          }
          accept_later(listener, generation);
          return;
        }
        accept(listener, generation);
      });
}

void Worker::accept_later(const std::string& listener, uint64_t generation) {
  auto timer = std::make_shared<asio::steady_timer>(io_, accept_backoff_);
  timer->async_wait([this, timer, listener, generation](asio::error_code ec) {
    if (ec || draining_) return;
    auto it = listening_.find(listener);
    if (it == listening_.end() || it->second.generation != generation) return;
    accept(listener, generation);
  });
}

bool Worker::at_connection_limit(const config::Listener& l) const {
  if (l.max_connections == 0) return false;
  // Each worker takes an equal share: the kernel spreads SO_REUSEPORT accepts evenly.
  const size_t share = (l.max_connections + worker_count_ - 1) / worker_count_;
  auto it = connections_per_listener_.find(l.name);
  return it != connections_per_listener_.end() && it->second >= share;
}

void Worker::on_abuse(http2::ServerConnection&, http2::ServerConnection::Abuse abuse) {
  bump(stats_.abuse_goaways[static_cast<size_t>(abuse)]);
}

void Worker::serve(const config::Listener& l, asio::ip::tcp::socket socket) {
  auto conn =
      http2::ServerConnection::create(std::move(socket), snapshot_->downstream_settings, *this);
  conn->set_flow_stats(&flow_.downstream);
  downstream_.emplace(conn.get(), Downstream{conn, l.name});
  ++connections_per_listener_[l.name];
  if (l.max_connection_age.count() > 0) {
    // +-10% jitter so connections accepted together do not all move at once.
    conn->set_max_age(core::jittered(l.max_connection_age, 0.1, random_),
                      l.max_connection_age_grace);
  }
  if (l.idle_timeout.count() > 0) conn->set_idle_timeout(l.idle_timeout);
  if (l.keepalive_time.count() > 0) conn->set_keepalive(l.keepalive_time, l.keepalive_timeout);
  downstream_count_.fetch_add(1);
  add(stats_.downstream_connections, 1);
  bump(stats_.downstream_connections_total);
  conn->start();
}

http2::ServerStream* Worker::new_stream(http2::ServerConnection& conn, int32_t stream_id) {
  return new Call(*this, conn, stream_id);
}

void Worker::on_connection_closed(http2::ServerConnection& conn) {
  auto it = downstream_.find(&conn);
  if (it == downstream_.end()) return;
  asio::post(io_, [keep = it->second.conn] {});  // outlive the callback chain we are in
  --connections_per_listener_[it->second.listener];
  downstream_.erase(it);
  downstream_count_.fetch_sub(1);
  add(stats_.downstream_connections, -1);
}

void Worker::drain() {
  asio::post(io_, [this] {
    draining_ = true;
    for (auto& [name, l] : listening_) {
      asio::error_code ec;
      l.acceptor->close(ec);
    }
    for (auto& [ptr, d] : downstream_) d.conn->begin_shutdown();
  });
}

void Worker::stop() {
  if (!thread_.joinable()) return;
  asio::post(io_, [this] {
    auto conns = downstream_;
    for (auto& [ptr, d] : conns) d.conn->close("proxy stopping");
    for (auto& c : clusters_) {
      for (auto& p : c->pools) p->close_all();
    }
    io_.stop();
  });
  thread_.join();
}

}  // namespace sluice::proxy
