// Call counters of sluice-testserver, read by the Stats RPC and printed at exit.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "sluice/test/v1/test.pb.h"

namespace sluice::testserver {

class ServerStats {
 public:
  // A TestService call (Unary, ServerStream, ClientStream, BidiStream) began.
  void call_started(std::string_view method);
  // The server saw a call cancelled (client cancel, deadline, or shutdown).
  void call_cancelled();
  // A started call is over (its reactor is done).
  void call_done() { active_.fetch_sub(1, std::memory_order_acq_rel); }
  // Calls started and not yet done: what a graceful shutdown waits for.
  int64_t active_calls() const { return active_.load(std::memory_order_acquire); }

  // A request message was read, a response message written (payload bytes each).
  void message_received(size_t payload_bytes) { add(received_, payload_bytes); }
  void message_sent(size_t payload_bytes) { add(sent_, payload_bytes); }

  // Counters since the last reset; `reset` zeroes them after reading.
  void snapshot(bool reset, sluice::test::v1::StatsResponse* out);
  // One line for the exit report: "served N calls: Method=n ...", counted over the whole run
  // (resets do not touch it).
  std::string served_line();

 private:
  struct Counters {
    uint64_t total = 0;
    uint64_t cancelled = 0;
    std::map<std::string, uint64_t, std::less<>> by_method;
    int64_t last_cancel_unix_micros = 0;
  };

  // Messages and payload bytes, one direction; lock-free (bumped per message).
  struct Flow {
    std::atomic<uint64_t> messages{0};
    std::atomic<uint64_t> bytes{0};
  };
  static void add(Flow& f, size_t bytes) {
    f.messages.fetch_add(1, std::memory_order_relaxed);
    f.bytes.fetch_add(bytes, std::memory_order_relaxed);
  }

  std::atomic<int64_t> active_{0};
  Flow received_;
  Flow sent_;
  std::mutex mu_;
  Counters since_reset_;
  Counters lifetime_;
};

}  // namespace sluice::testserver
