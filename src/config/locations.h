// Where each field of a config came from, so that rules checked after parsing (unique names,
// references between sections) can still point at a file, line and column.
#pragma once

#include <string>
#include <unordered_map>

#include "config/config.h"

namespace sluice::config {

struct SourcePos {
  int line = 0;  // 1-based; 0 = unknown
  int column = 0;
};

class Locations {
 public:
  explicit Locations(std::string file) : file_(std::move(file)) {}

  const std::string& file() const { return file_; }
  // `path` is the dotted field path, e.g. "clusters[0].endpoints[2]".
  void record(const std::string& path, SourcePos pos) { positions_[path] = pos; }
  // The position of `path`, else of its closest recorded parent, else unknown (line 0).
  SourcePos find(const std::string& path) const;
  // An error at find(path).
  ConfigError error(const std::string& path, std::string message) const;

 private:
  std::string file_;
  std::unordered_map<std::string, SourcePos> positions_;
};

}  // namespace sluice::config
