#include "load/load_worker.h"

#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>

namespace sluice::load {
namespace {

http2::HeaderBlock request_headers(const LoadSpec& spec) {
  http2::HeaderBlock h;
  h.add(":method", "POST");
  h.add(":scheme", "http");
  h.add(":path", method_path(spec.call.method));
  h.add(":authority",
        spec.authority.empty() ? spec.host + ":" + std::to_string(spec.port) : spec.authority);
  h.add("content-type", "application/grpc");
  h.add("te", "trailers");
  h.add("user-agent", "sluice-load");
  if (spec.timeout.count() > 0) h.add("grpc-timeout", std::to_string(spec.timeout.count()) + "m");
  for (const auto& [name, value] : spec.metadata) h.add(name, value);
  return h;
}

}  // namespace

LoadWorker::LoadWorker(const LoadSpec& spec, WorkerShare share, asio::ip::tcp::endpoint target,
                       Collector& collector)
    : spec_(spec),
      share_(share),
      collector_(collector),
      headers_(request_headers(spec)),
      body_(request_body(spec.call)),
      send_timer_(io_),
      interval_timer_(io_),
      end_timer_(io_) {
  for (uint32_t i = 0; i < share_.connections; ++i) {
    connections_.push_back(
        std::make_unique<LoadConnection>(io_, target, headers_, spec.connect_timeout, *this));
  }
}

LoadWorker::~LoadWorker() {
  for (auto& c : connections_) c->shut_down();
}

void LoadWorker::run() {
  auto guard = asio::make_work_guard(io_);
  for (auto& c : connections_) c->connect();
  io_.run();
}

void LoadWorker::begin(Clock::time_point start) {
  asio::post(io_, [this, start] { start_run(start); });
}

void LoadWorker::stop() {
  asio::post(io_, [this] {
    for (auto& c : connections_) c->shut_down();
    io_.stop();
  });
}

std::string LoadWorker::connect_error() const {
  std::lock_guard lock(error_mu_);
  return connect_error_;
}

void LoadWorker::settle(const LoadConnection& conn) {
  if (settled_.insert(&conn).second && settled_.size() == connections_.size()) {
    connect_settled_ = true;
  }
}

void LoadWorker::on_connect_failed(LoadConnection& conn, const std::string& reason) {
  {
    std::lock_guard lock(error_mu_);
    connect_error_ = reason;
  }
  settle(conn);
}

void LoadWorker::on_capacity(LoadConnection& conn) {
  settle(conn);
  start_due_calls();
}

void LoadWorker::start_run(Clock::time_point start) {
  start_ = start;
  sending_ = true;
  interval_timer_.expires_at(start_ + spec_.interval);
  interval_timer_.async_wait([this](asio::error_code ec) {
    if (!ec) on_interval();
  });
  end_timer_.expires_at(start_ + spec_.duration);
  end_timer_.async_wait([this](asio::error_code ec) {
    if (!ec) end_sending();
  });
  if (spec_.rate > 0) {
    schedule_.emplace(start_, spec_.rate, share_.senders, static_cast<uint32_t>(share_.index));
    schedule_open_loop();
  } else {
    start_due_calls();
  }
}

void LoadWorker::schedule_open_loop() {
  if (!sending_) return;
  // Calls due before the end of the run, and no more than asked for.
  const uint64_t in_run = schedule_->due_by(start_ + spec_.duration - std::chrono::nanoseconds(1));
  uint64_t due = std::min(schedule_->due_by(Clock::now()), in_run);
  if (share_.max_calls > 0) due = std::min(due, share_.max_calls);
  for (; scheduled_ < due; ++scheduled_) waiting_.push_back(schedule_->due(scheduled_));
  start_due_calls();
  if (scheduled_ >= in_run || (share_.max_calls > 0 && scheduled_ >= share_.max_calls)) return;
  send_timer_.expires_at(schedule_->due(scheduled_));
  send_timer_.async_wait([this](asio::error_code ec) {
    if (!ec) schedule_open_loop();
  });
}

// Open loop: every call made due is sent, also after the end of the run (until the drain
// cut-off), so that the slowest calls are measured too. Closed loop: only while sending.
bool LoadWorker::can_issue() const {
  if (cut_off_) return false;
  if (schedule_) return !waiting_.empty();
  return sending_ && (share_.max_calls == 0 || issued_ < share_.max_calls) &&
         in_flight_ < share_.concurrency;
}

LoadConnection* LoadWorker::ready_connection() {
  for (size_t i = 0; i < connections_.size(); ++i) {
    LoadConnection* c = connections_[(next_connection_ + i) % connections_.size()].get();
    if (c->ready()) {
      next_connection_ = (next_connection_ + i + 1) % connections_.size();
      return c;
    }
  }
  return nullptr;
}

LoadCall& LoadWorker::take_call() {
  if (free_calls_.empty()) {
    all_calls_.push_back(std::make_unique<LoadCall>(*this, body_));
    return *all_calls_.back();
  }
  LoadCall* call = free_calls_.back();
  free_calls_.pop_back();
  return *call;
}

void LoadWorker::start_due_calls() {
  const bool open_loop = schedule_.has_value();
  while (can_issue()) {
    LoadConnection* conn = ready_connection();
    if (conn == nullptr) break;  // every stream slot taken: on_capacity() comes back here
    const Clock::time_point intended = open_loop ? waiting_.front() : Clock::now();
    LoadCall& call = take_call();
    call.reset(*conn, intended);
    if (!conn->start(call)) {
      free_calls_.push_back(&call);
      break;
    }
    if (open_loop) waiting_.pop_front();
    ++issued_;
    ++in_flight_;
  }
}

void LoadWorker::on_call_done(LoadCall& call, const CallResult& result) {
  if (cut_off_) return;  // counted as unfinished already
  --in_flight_;
  const Clock::time_point now = Clock::now();
  hand_in_through(static_cast<size_t>((now - start_) / spec_.interval));
  const auto latency = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(now - result.intended).count());
  interval_.add(result.status, latency, result.backend);
  if (now >= start_ + spec_.warmup) summary_.add(result.status, latency, result.backend);
  free_calls_.push_back(&call);
  start_due_calls();
  const bool all_issued = share_.max_calls > 0 && issued_ >= share_.max_calls;
  if (sending_ && all_issued && in_flight_ == 0) end_sending();
  finish_if_drained();
}

void LoadWorker::on_interval() {
  if (finished_) return;
  const auto index = static_cast<size_t>((Clock::now() - start_) / spec_.interval);
  hand_in_through(index);
  interval_timer_.expires_at(start_ + spec_.interval * (index + 1));
  interval_timer_.async_wait([this](asio::error_code ec) {
    if (!ec) on_interval();
  });
}

void LoadWorker::hand_in_through(size_t index) {
  while (interval_index_ < index) {
    collector_.hand_in(share_.index, interval_index_, std::move(interval_));
    interval_ = Tally{};
    ++interval_index_;
  }
}

void LoadWorker::end_sending() {
  if (!sending_) return;
  sending_ = false;
  send_timer_.cancel();
  end_timer_.expires_after(spec_.drain);
  end_timer_.async_wait([this](asio::error_code ec) {
    if (!ec) cut_off();
  });
  finish_if_drained();
}

void LoadWorker::cut_off() {
  cut_off_ = true;
  // Still in flight, or due and never sent (the target fell that far behind the rate).
  unfinished_ += in_flight_ + waiting_.size();
  in_flight_ = 0;
  waiting_.clear();
  finish_if_drained();
}

void LoadWorker::finish_if_drained() {
  if (sending_ || in_flight_ > 0 || !waiting_.empty() || finished_) return;
  finished_ = true;
  hand_in_through(interval_index_ + 1);  // the last, partial interval
  collector_.finish(share_.index, std::move(summary_), unfinished_);
  send_timer_.cancel();
  interval_timer_.cancel();
  end_timer_.cancel();
  auto shut_down = [this] {
    for (auto& c : connections_) c->shut_down();
    io_.stop();
  };
  if (spec_.hold.count() > 0) {
    end_timer_.expires_after(spec_.hold);
    end_timer_.async_wait([shut_down](asio::error_code) { shut_down(); });
    return;
  }
  shut_down();
}

}  // namespace sluice::load
