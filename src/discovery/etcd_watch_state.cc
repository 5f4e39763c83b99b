#include "discovery/etcd_watch_state.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "discovery/endpoints_file.h"

namespace sluice::discovery {

std::string prefix_range_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last < 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');
}

EtcdWatchState::Update EtcdWatchState::reset(const std::vector<EtcdKeyValue>& kvs,
                                             int64_t revision) {
  Update update;
  good_.clear();
  bad_.clear();
  for (const auto& kv : kvs) put(kv, update.errors);
  revision_ = revision;
  synced_ = true;
  update.changed = rebuild();
  return update;
}

EtcdWatchState::Update EtcdWatchState::apply(const std::vector<EtcdEvent>& events) {
  Update update;
  if (!synced_) return update;  // nothing to apply events to until a Range
  const int64_t before = revision_;
  for (const auto& ev : events) {
    if (ev.kv.mod_revision <= before) continue;  // replayed: applied already
    if (ev.type == EtcdEvent::Type::kDelete) {
      good_.erase(ev.kv.key);
      bad_.erase(ev.kv.key);
    } else {
      put(ev.kv, update.errors);
    }
    revision_ = std::max(revision_, ev.kv.mod_revision);
  }
  update.changed = rebuild();
  return update;
}

void EtcdWatchState::put(const EtcdKeyValue& kv, std::vector<std::string>& errors) {
  auto endpoint = parse_endpoint(kv.value);
  if (endpoint) {
    good_[kv.key] = std::move(*endpoint);
    bad_.erase(kv.key);
    return;
  }
  good_.erase(kv.key);
  bad_[kv.key] = endpoint.error();
  errors.push_back("key " + kv.key + ": " + endpoint.error());
}

bool EtcdWatchState::rebuild() {
  std::vector<config::Endpoint> next;
  std::set<std::string> seen;
  for (const auto& [key, endpoint] : good_) {  // key order: the first key of an address wins
    if (seen.insert(endpoint.address.to_string()).second) next.push_back(endpoint);
  }
  std::sort(next.begin(), next.end(), [](const config::Endpoint& a, const config::Endpoint& b) {
    return std::tie(a.address.host, a.address.port) < std::tie(b.address.host, b.address.port);
  });
  if (next == endpoints_) return false;
  endpoints_ = std::move(next);
  return true;
}

}  // namespace sluice::discovery
