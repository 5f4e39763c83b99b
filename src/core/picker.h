// A Picker chooses the endpoint of one call. Policies publish pickers built from an immutable
// EndpointSet; a picker lives on one worker and is used without locks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <variant>

#include "core/endpoint_set.h"

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

class Picker {
 public:
  virtual ~Picker() = default;
  virtual PickResult pick(const TriedSet& tried) = 0;
};

// Round robin over all endpoints, starting at `start % size` (workers start at random offsets
// so they do not all hit endpoint 0 first). Skips tried endpoints while untried ones remain;
// once every endpoint was tried it returns the next one in order anyway (a retry may go back
// to an endpoint rather than fail). The rotation continues after the endpoint chosen.
// An empty (or null) set yields PickFail{"no endpoints"}.
class RoundRobinPicker final : public Picker {
 public:
  RoundRobinPicker(EndpointSetPtr set, uint64_t start);
  PickResult pick(const TriedSet& tried) override;

 private:
  EndpointSetPtr set_;
  size_t count_;  // set_->endpoints.size(), cached for the hot path
  size_t next_;   // always < count_ (or 0 when empty)
};

// Builds the picker for a policy name ("round_robin"); nullptr for an unknown policy (the
// config validator rejects those first).
class Random;
std::unique_ptr<Picker> make_picker(const std::string& policy, EndpointSetPtr set, Random& random);

}  // namespace sluice::core
