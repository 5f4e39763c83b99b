// What an etcd prefix watch knows: every key under the prefix with its endpoint, and the
// revision applied last. Pure (no gRPC types), so the diff and resume rules are unit tested:
// - a Range result replaces everything (reset) and sets the revision to the Range's header;
// - watch events are applied per WatchResponse; an event at or below the revision applied
//   before that response was seen already and is skipped (a resumed watch never applies an
//   event twice), while events sharing one revision inside a response (one transaction, one
//   lease expiry deleting several keys) all apply;
// - the watch resumes from revision + 1; a compacted history needs a new Range.
// A value that does not parse is reported once and that key is no endpoint (also when it held a
// good value before, so resuming and re-reading the range always agree).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace sluice::discovery {

struct EtcdKeyValue {
  std::string key;
  std::string value;
  int64_t mod_revision = 0;  // for a DELETE event: the revision of the deletion
};

struct EtcdEvent {
  enum class Type { kPut, kDelete };
  Type type = Type::kPut;
  EtcdKeyValue kv;
};

// The end of the key range [prefix, end) that holds exactly the keys starting with `prefix`:
// the prefix with its last byte incremented (trailing 0xff bytes dropped first); "\0" (every
// key) when the prefix is empty or all 0xff.
std::string prefix_range_end(std::string_view prefix);

class EtcdWatchState {
 public:
  struct Update {
    bool changed = false;             // the endpoint list differs from the one before
    std::vector<std::string> errors;  // "key K: problem", one per bad value just read
  };

  // A Range over the prefix, read at `revision` (its response header's).
  Update reset(const std::vector<EtcdKeyValue>& kvs, int64_t revision);
  // The events of one WatchResponse, in order.
  Update apply(const std::vector<EtcdEvent>& events);
  // The watch reported compact_revision: the events after revision() are gone.
  void compacted() { synced_ = false; }

  bool needs_range() const { return !synced_; }
  int64_t revision() const { return revision_; }
  int64_t resume_revision() const { return revision_ + 1; }
  // Sorted by address; a second key with an address already listed adds nothing.
  const std::vector<config::Endpoint>& endpoints() const { return endpoints_; }
  // Keys whose value did not parse, with the reason.
  const std::map<std::string, std::string>& bad_keys() const { return bad_; }

 private:
  void put(const EtcdKeyValue& kv, std::vector<std::string>& errors);
  bool rebuild();

  std::map<std::string, config::Endpoint> good_;
  std::map<std::string, std::string> bad_;
  std::vector<config::Endpoint> endpoints_;
  int64_t revision_ = 0;
  bool synced_ = false;
};

}  // namespace sluice::discovery
