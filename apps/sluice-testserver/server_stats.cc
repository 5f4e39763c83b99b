#include "server_stats.h"

#include <chrono>

namespace sluice::testserver {
namespace {

void add_call(std::string_view method, std::map<std::string, uint64_t, std::less<>>& by_method) {
  auto it = by_method.find(method);
  if (it == by_method.end()) it = by_method.emplace(std::string(method), 0).first;
  ++it->second;
}

}  // namespace

void ServerStats::call_started(std::string_view method) {
  active_.fetch_add(1, std::memory_order_acq_rel);
  std::lock_guard lock(mu_);
  for (Counters* c : {&since_reset_, &lifetime_}) {
    ++c->total;
    add_call(method, c->by_method);
  }
}

void ServerStats::call_cancelled() {
  const int64_t now = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  std::lock_guard lock(mu_);
  for (Counters* c : {&since_reset_, &lifetime_}) {
    ++c->cancelled;
    c->last_cancel_unix_micros = now;
  }
}

void ServerStats::snapshot(bool reset, sluice::test::v1::StatsResponse* out) {
  std::lock_guard lock(mu_);
  out->set_calls_total(since_reset_.total);
  out->set_calls_cancelled(since_reset_.cancelled);
  out->set_last_cancel_unix_micros(since_reset_.last_cancel_unix_micros);
  for (const auto& [method, count] : since_reset_.by_method) {
    (*out->mutable_calls_by_method())[method] = count;
  }
  // Exchange with 0 on reset, so a message counted meanwhile is in this answer or the next.
  auto take = [reset](std::atomic<uint64_t>& v) {
    return reset ? v.exchange(0, std::memory_order_relaxed) : v.load(std::memory_order_relaxed);
  };
  out->set_messages_received(take(received_.messages));
  out->set_payload_bytes_received(take(received_.bytes));
  out->set_messages_sent(take(sent_.messages));
  out->set_payload_bytes_sent(take(sent_.bytes));
  if (reset) since_reset_ = Counters{};
}

std::string ServerStats::served_line() {
  std::lock_guard lock(mu_);
  std::string line = "served " + std::to_string(lifetime_.total) + " calls";
  if (!lifetime_.by_method.empty()) line += ":";
  for (const auto& [method, count] : lifetime_.by_method) {
    line += " " + method + "=" + std::to_string(count);
  }
  return line;
}

}  // namespace sluice::testserver
