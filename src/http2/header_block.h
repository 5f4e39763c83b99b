// The header fields of one HEADERS block (request headers, response headers or trailers), kept
// in order with repeated names, in one buffer so a call costs two allocations, not one per field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::http2 {

class HeaderBlock {
 public:
  void add(std::string_view name, std::string_view value);
  void clear();
  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }
  std::string_view name(size_t i) const;
  std::string_view value(size_t i) const;
  // The first value of `name`, if present (names are lowercase on HTTP/2).
  std::optional<std::string_view> find(std::string_view name) const;
  // Replaces the value of the first field named `name` or appends it.
  void set(std::string_view name, std::string_view value);
  // Drops every field named `name`.
  void remove(std::string_view name);

 private:
  struct Entry {
    uint32_t name_off, name_len, value_off, value_len;
  };
  std::string buf_;
  std::vector<Entry> entries_;
};

}  // namespace sluice::http2
