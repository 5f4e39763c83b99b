// A Picker chooses the endpoint of one call. Policies publish pickers built from an immutable
// EndpointSet; a picker lives on one worker and is used without locks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "core/endpoint_load.h"
#include "core/endpoint_set.h"
#include "core/policy_config.h"
#include "core/random.h"

namespace sluice::core {

// Endpoints a call already tried (by index into the EndpointSet), so a transparent retry goes
// elsewhere. Small and fixed: a call is re-picked a handful of times at most.
class TriedSet {
 public:
  static constexpr size_t kMax = 8;
  // Ignores duplicates; once kMax distinct indices are held, further ones are dropped.
  void add(size_t index);
  bool contains(size_t index) const;
  // Takes an index back out (the call never reached that endpoint after all).
  void remove(size_t index);
  size_t size() const { return n_; }
  size_t operator[](size_t i) const { return items_[i]; }  // i < size()

 private:
  size_t items_[kMax] = {};
  size_t n_ = 0;
};

struct PickComplete {
  size_t index;  // into EndpointSet::endpoints
};
struct PickFail {
  std::string reason;  // becomes the grpc-message of an UNAVAILABLE status
};
using PickResult = std::variant<PickComplete, PickFail>;

// What a pick may know about its call. Pickers never keep it.
struct PickContext {
  const TriedSet& tried;
  Nanos now{0};                  // monotonic; peak_ewma reads load decayed to it
  std::optional<uint64_t> hash;  // ring_hash: stable_hash of the configured header's value
};

class Picker {
 public:
  virtual ~Picker() = default;
  virtual PickResult pick(const PickContext& context) = 0;
  PickResult pick(const TriedSet& tried) {
    return pick(PickContext{tried, Nanos{0}, std::nullopt});
  }
};

// The first index at or after `start` (wrapping) that is not tried; `start` itself when every
// index is tried (a retry may go back to an endpoint rather than fail). count > 0.
size_t first_untried(size_t start, size_t count, const TriedSet& tried);

// Round robin over all endpoints, starting at `start % size` (workers start at random offsets
// so they do not all hit endpoint 0 first). Skips tried endpoints while untried ones remain;
// once every endpoint was tried it returns the next one in order anyway (a retry may go back
// to an endpoint rather than fail). The rotation continues after the endpoint chosen.
// An empty (or null) set yields PickFail{"no endpoints"}.
class RoundRobinPicker final : public Picker {
 public:
  RoundRobinPicker(EndpointSetPtr set, uint64_t start);
  using Picker::pick;
  PickResult pick(const PickContext& context) override;

 private:
  EndpointSetPtr set_;
  size_t count_;  // set_->endpoints.size(), cached for the hot path
  size_t next_;   // always < count_ (or 0 when empty)
};

// Builds the picker of a policy over `set`. `loads` is indexed like set->endpoints (the
// worker's per-endpoint load state); `random` must outlive the picker.
std::unique_ptr<Picker> make_picker(const PolicyConfig& policy, EndpointSetPtr set, LoadTable loads,
                                    Random& random);

}  // namespace sluice::core
