// The public entry points: file and string parsing, with the exception boundary around yaml-cpp.
#include "config/config.h"

#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>

#include "config/locations.h"
#include "config/validate.h"
#include "config/yaml_document.h"
#include "config/yaml_reader.h"

namespace sluice::config {
namespace {

// Config files are small; this only stops a wrong path (a device, a huge log) from eating memory.
constexpr size_t kMaxFileSize = 16u << 20;

Expected<Config, ConfigError> parse_document(std::string_view yaml, std::string_view file) {
  auto root = load_single_document(yaml, file);
  if (!root) return Unexpected<ConfigError>(std::move(root.error()));
  Locations where{std::string(file)};
  auto config = read_config(*root, where);
  if (!config) return config;
  if (auto error = validate(*config, where)) return Unexpected<ConfigError>(std::move(*error));
  return config;
}

}  // namespace

const Cluster* Config::find_cluster(std::string_view name) const {
  for (const Cluster& cluster : clusters) {
    if (cluster.name == name) return &cluster;
  }
  return nullptr;
}

std::string ConfigError::to_string() const {
  std::string location = file;
  if (line > 0) {
    location += ":" + std::to_string(line);
    if (column > 0) location += ":" + std::to_string(column);
  }
  std::string text;
  if (!location.empty()) text = location + ": ";
  if (!field.empty()) text += field + ": ";
  return text + message;
}

Expected<Config, ConfigError> parse_config_string(std::string_view yaml, std::string_view file) {
  // yaml-cpp reports syntax errors (and a few node misuses) as exceptions: this is the one place
  // they are caught and turned into values.
  try {
    return parse_document(yaml, file);
  } catch (const YAML::Exception& e) {
    return Unexpected<ConfigError>(error_at_mark(file, e.mark, e.msg));
  } catch (const std::exception& e) {
    return Unexpected<ConfigError>(ConfigError{std::string(file), 0, 0, "", e.what()});
  } catch (...) {
    return Unexpected<ConfigError>(
        ConfigError{std::string(file), 0, 0, "", "unexpected error while parsing"});
  }
}

Expected<Config, ConfigError> parse_config_file(const std::string& path) {
  auto fail = [&](std::string message) {
    return Unexpected<ConfigError>(ConfigError{path, 0, 0, "", std::move(message)});
  };
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) return fail(std::string("cannot open config file: ") + std::strerror(errno));
  std::string text;
  char buffer[64 * 1024];
  while (true) {
    const size_t n = std::fread(buffer, 1, sizeof buffer, file.get());
    text.append(buffer, n);
    if (text.size() > kMaxFileSize) return fail("config file is larger than 16 MiB");
    if (n < sizeof buffer) break;
  }
  if (std::ferror(file.get())) {
    return fail(std::string("cannot read config file: ") + std::strerror(errno));
  }
  return parse_config_string(text, path);
}

}  // namespace sluice::config
