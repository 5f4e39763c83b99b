// One thread of a load run: its own event loop, its share of the connections and of the rate
// (or concurrency), and its own tallies, handed to the Collector at every interval.
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "http2/header_block.h"
#include "load/collector.h"
#include "load/load_call.h"
#include "load/load_connection.h"
#include "load/load_spec.h"
#include "load/open_loop_schedule.h"

namespace sluice::load {

// What a worker is given out of the whole run.
struct WorkerShare {
  size_t index = 0;
  uint32_t senders = 1;  // workers in the run
  uint32_t connections = 1;
  uint32_t concurrency = 1;  // closed loop
  uint64_t max_calls = 0;    // 0 = no limit
};

class LoadWorker final : public LoadCall::Listener, public LoadConnection::Listener {
 public:
  using Clock = std::chrono::steady_clock;

  LoadWorker(const LoadSpec& spec, WorkerShare share, asio::ip::tcp::endpoint target,
             Collector& collector);
  ~LoadWorker() override;

  // Worker thread: connects, then runs the event loop until the run is over.
  void run();
  // Any thread, once: every worker connected (or failed to); calls start at `start`.
  void begin(Clock::time_point start);
  // Any thread: ends the run at once (the connect phase failed).
  void stop();
  // Any thread: true once this worker's connections were attempted.
  bool connected_or_failed() const { return connect_settled_.load(); }
  std::string connect_error() const;

  void on_call_done(LoadCall& call, const CallResult& result) override;
  void on_capacity(LoadConnection& conn) override;
  void on_connect_failed(LoadConnection& conn, const std::string& reason) override;

 private:
  void start_run(Clock::time_point start);
  void schedule_open_loop();
  void start_due_calls();
  void on_interval();
  void hand_in_through(size_t index);
  void end_sending();
  void cut_off();
  void finish_if_drained();
  void settle(const LoadConnection& conn);
  LoadConnection* ready_connection();
  LoadCall& take_call();
  bool can_issue() const;

  const LoadSpec& spec_;
  WorkerShare share_;
  Collector& collector_;
  asio::io_context io_;
  http2::HeaderBlock headers_;
  const std::string body_;
  std::vector<std::unique_ptr<LoadConnection>> connections_;
  size_t next_connection_ = 0;
  std::vector<LoadCall*> free_calls_;
  std::vector<std::unique_ptr<LoadCall>> all_calls_;

  Clock::time_point start_;
  std::optional<OpenLoopSchedule> schedule_;
  uint64_t scheduled_ = 0;                 // open loop: calls made due so far
  std::deque<Clock::time_point> waiting_;  // open loop: due calls without a free stream yet
  uint64_t issued_ = 0;
  uint64_t in_flight_ = 0;
  bool sending_ = false;
  bool cut_off_ = false;
  bool finished_ = false;
  asio::steady_timer send_timer_;
  asio::steady_timer interval_timer_;
  asio::steady_timer end_timer_;

  size_t interval_index_ = 0;  // the interval being filled
  Tally interval_;
  Tally summary_;

  uint64_t unfinished_ = 0;
  std::atomic<bool> connect_settled_{false};
  std::unordered_set<const LoadConnection*> settled_;  // connected once, or failed once
  mutable std::mutex error_mu_;
  std::string connect_error_;
};

}  // namespace sluice::load
