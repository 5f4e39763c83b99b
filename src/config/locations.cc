#include "config/locations.h"

namespace sluice::config {

SourcePos Locations::find(const std::string& path) const {
  // A field that was never written (a missing key) is reported where its parent is.
  std::string_view prefix = path;
  while (!prefix.empty()) {
    auto it = positions_.find(std::string(prefix));
    if (it != positions_.end()) return it->second;
    const size_t cut = prefix.find_last_of(".[");
    prefix = prefix.substr(0, cut == std::string_view::npos ? 0 : cut);
  }
  return {};
}

ConfigError Locations::error(const std::string& path, std::string message) const {
  const SourcePos pos = find(path);
  return ConfigError{file_, pos.line, pos.column, path, std::move(message)};
}

}  // namespace sluice::config
