#include "http2/header_block.h"

#include <algorithm>

namespace sluice::http2 {

void HeaderBlock::add(std::string_view name, std::string_view value) {
  if (entries_.empty()) {
    buf_.reserve(256);
    entries_.reserve(12);
  }
  Entry e{static_cast<uint32_t>(buf_.size()), static_cast<uint32_t>(name.size()), 0,
          static_cast<uint32_t>(value.size())};
  buf_.append(name);
  e.value_off = static_cast<uint32_t>(buf_.size());
  buf_.append(value);
  entries_.push_back(e);
}

void HeaderBlock::clear() {
  buf_.clear();
  entries_.clear();
}

std::string_view HeaderBlock::name(size_t i) const {
  const Entry& e = entries_[i];
  return std::string_view(buf_).substr(e.name_off, e.name_len);
}

std::string_view HeaderBlock::value(size_t i) const {
  const Entry& e = entries_[i];
  return std::string_view(buf_).substr(e.value_off, e.value_len);
}

std::optional<std::string_view> HeaderBlock::find(std::string_view name) const {
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (this->name(i) == name) return value(i);
  }
  return std::nullopt;
}

void HeaderBlock::set(std::string_view name, std::string_view value) {
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (this->name(i) != name) continue;
    // Values live in one buffer: append the new one and point the entry at it.
    entries_[i].value_off = static_cast<uint32_t>(buf_.size());
    entries_[i].value_len = static_cast<uint32_t>(value.size());
    buf_.append(value);
    return;
  }
  add(name, value);
}

void HeaderBlock::remove(std::string_view name) {
  std::erase_if(entries_, [&](const Entry& e) {
    return std::string_view(buf_).substr(e.name_off, e.name_len) == name;
  });
}

}  // namespace sluice::http2
