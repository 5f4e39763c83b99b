// What every section reader of the config file shares: the rules of a mapping (known keys,
// duplicates, required fields), scalars by type and range, and errors that name the file, line
// and field. Internal to src/config (yaml_reader.cc, service_config_reader.cc).
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "base/expected.h"
#include "config/config.h"
#include "config/locations.h"
#include "config/scalars.h"
#include "http2/grpc/status.h"

namespace sluice::config::detail {

using MaybeError = std::optional<ConfigError>;
using FieldReader = std::function<MaybeError(const YAML::Node& value, const std::string& path)>;

struct FieldRule {
  std::string_view key;
  FieldReader read;
  bool required = false;
};

inline SourcePos position_of(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) return {};
  return {mark.line + 1, mark.column + 1};
}

inline std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Scalar:
      return "\"" + node.Scalar() + "\"";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    default:
      return "an undefined value";
  }
}

inline std::string child_path(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

inline std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

// A bound in an error message: 100, or 0.5 (not 0.500000).
template <class T>
inline std::string shown(T value) {
  if constexpr (std::is_floating_point_v<T>) {
    std::ostringstream out;
    out << value;
    return out.str();
  } else {
    return std::to_string(value);
  }
}

inline size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// "unknown key "lisenters" (did you mean "listeners"?)", else the list of keys allowed there.
inline std::string unknown_key_message(std::string_view key, const std::vector<FieldRule>& rules) {
  std::string message = "unknown key " + quoted(key);
  if (key.size() <= 64) {  // bounds the distance computation on hostile input
    for (const FieldRule& rule : rules) {
      if (edit_distance(key, rule.key) <= 2)
        return message + " (did you mean " + quoted(rule.key) + "?)";
    }
  }
  message += " (expected one of:";
  for (const FieldRule& rule : rules) message += " " + std::string(rule.key);
  return message + ")";
}

// Assigns an Expected's value to `out`, or hands back its error.
template <class T, class U>
inline MaybeError assign(Expected<T, ConfigError> result, U& out) {
  if (!result) return result.error();
  out = static_cast<U>(*result);
  return std::nullopt;
}

inline bool is_service_name(std::string_view name) {
  if (name.empty() || name.front() == '.' || name.back() == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.';
  });
}

inline bool is_method_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

inline bool is_authority(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

enum class PortZero { kAllowed, kRejected };

class NodeReader {
 public:
  // `line_offset`: lines above the document read (a JSON text inside a YAML string).
  explicit NodeReader(Locations& where, int line_offset = 0)
      : where_(where), line_offset_(line_offset) {}

 protected:
  ConfigError error_at(const YAML::Node& node, const std::string& path, std::string message) {
    const SourcePos pos =
        shifted(node.IsNull() && null_value_pos_ ? *null_value_pos_ : position_of(node));
    return ConfigError{where_.file(), pos.line, pos.column, path, std::move(message)};
  }

  SourcePos shifted(SourcePos pos) const {
    if (pos.line > 0) pos.line += line_offset_;
    return pos;
  }

  // Reads a mapping whose keys must all be in `rules`; a null node counts as an empty mapping.
  MaybeError read_mapping(const YAML::Node& node, const std::string& path,
                          const std::vector<FieldRule>& rules) {
    if (!node.IsNull() && !node.IsMap()) {
      return error_at(node, path, "expected a mapping of keys to values, got " + describe(node));
    }
    std::set<std::string, std::less<>> seen;
    if (node.IsMap()) {
      for (auto it = node.begin(); it != node.end(); ++it) {
        const YAML::Node key_node = it->first;  // copies: `it->` yields a temporary
        const YAML::Node value = it->second;
        if (!key_node.IsScalar()) {
          return error_at(key_node, path, "keys must be plain strings, got " + describe(key_node));
        }
        const std::string& key = key_node.Scalar();
        const std::string field = child_path(path, key);
        auto rule = std::find_if(rules.begin(), rules.end(),
                                 [&](const FieldRule& r) { return r.key == key; });
        if (rule == rules.end()) return error_at(key_node, field, unknown_key_message(key, rules));
        if (!seen.insert(key).second)
          return error_at(key_node, field, "duplicate key " + quoted(key));
        // yaml-cpp marks an empty value where the next token starts, often on the next line;
        // its key is the better place to point at.
        null_value_pos_.reset();
        if (value.IsNull()) null_value_pos_ = position_of(key_node);
        where_.record(field, shifted(value.IsNull() ? *null_value_pos_ : position_of(value)));
        if (auto error = rule->read(value, field)) return error;
      }
    }
    for (const FieldRule& rule : rules) {
      if (rule.required && !seen.contains(rule.key)) {
        return error_at(node, child_path(path, rule.key),
                        "missing required field " + quoted(rule.key));
      }
    }
    return std::nullopt;
  }

  // Reads a list; a null node counts as an empty list.
  MaybeError read_list(const YAML::Node& node, const std::string& path,
                       const FieldReader& read_item) {
    if (node.IsNull()) return std::nullopt;
    if (!node.IsSequence()) return error_at(node, path, "expected a list, got " + describe(node));
    size_t index = 0;
    for (auto it = node.begin(); it != node.end(); ++it, ++index) {
      const std::string item_path = path + "[" + std::to_string(index) + "]";
      const YAML::Node item = *it;
      where_.record(item_path, shifted(position_of(item)));
      if (auto error = read_item(item, item_path)) return error;
    }
    return std::nullopt;
  }

  Expected<std::string, ConfigError> scalar(const YAML::Node& node, const std::string& path) {
    if (!node.IsScalar()) {
      return Unexpected<ConfigError>(
          error_at(node, path, "expected a value, got " + describe(node)));
    }
    return node.Scalar();
  }

  Expected<std::string, ConfigError> name(const YAML::Node& node, const std::string& path) {
    auto text = scalar(node, path);
    if (text && text->empty()) {
      return Unexpected<ConfigError>(error_at(node, path, "must not be empty"));
    }
    return text;
  }

  Expected<uint64_t, ConfigError> number(const YAML::Node& node, const std::string& path,
                                         uint64_t min, uint64_t max) {
    return in_range(node, path, parse_uint, min, max);
  }

  Expected<uint64_t, ConfigError> size(const YAML::Node& node, const std::string& path,
                                       uint64_t min, uint64_t max) {
    return in_range(node, path, parse_size, min, max);
  }

  template <class T>
  Expected<T, ConfigError> in_range(const YAML::Node& node, const std::string& path,
                                    Expected<T, std::string> (*parse)(std::string_view), T min,
                                    T max) {
    auto text = scalar(node, path);
    if (!text) return Unexpected<ConfigError>(text.error());
    auto value = parse(*text);
    if (!value) return Unexpected<ConfigError>(error_at(node, path, value.error()));
    if (*value < min || *value > max) {
      return Unexpected<ConfigError>(error_at(
          node, path, "must be between " + shown(min) + " and " + shown(max) + ", got " + *text));
    }
    return *value;
  }

  Expected<Millis, ConfigError> duration(const YAML::Node& node, const std::string& path) {
    auto text = scalar(node, path);
    if (!text) return Unexpected<ConfigError>(text.error());
    auto value = parse_duration(*text);
    if (!value) return Unexpected<ConfigError>(error_at(node, path, value.error()));
    return *value;
  }

  Expected<double, ConfigError> decimal(const YAML::Node& node, const std::string& path, double min,
                                        double max) {
    return in_range(node, path, parse_decimal, min, max);
  }

  Expected<bool, ConfigError> boolean(const YAML::Node& node, const std::string& path) {
    auto text = scalar(node, path);
    if (!text) return Unexpected<ConfigError>(text.error());
    auto value = parse_bool(*text);
    if (!value) return Unexpected<ConfigError>(error_at(node, path, value.error()));
    return *value;
  }

  Expected<HostPort, ConfigError> address(const YAML::Node& node, const std::string& path,
                                          PortZero port_zero) {
    auto text = scalar(node, path);
    if (!text) return Unexpected<ConfigError>(text.error());
    auto value = parse_host_port(*text);
    if (!value) return Unexpected<ConfigError>(error_at(node, path, value.error()));
    if (value->port == 0 && port_zero == PortZero::kRejected) {
      return Unexpected<ConfigError>(
          error_at(node, path, "port 0 is only allowed for listeners and the admin endpoint"));
    }
    return *value;
  }

  MaybeError read_status_code(const YAML::Node& node, const std::string& path, uint32_t& codes) {
    auto text = scalar(node, path);
    if (!text) return text.error();
    for (int code = 0; code < wire::kStatusCodeCount; ++code) {
      if (wire::status_name(static_cast<wire::StatusCode>(code)) == *text) {
        codes |= 1u << code;
        return std::nullopt;
      }
    }
    return error_at(node, path,
                    "unknown gRPC status " + quoted(*text) +
                        " (expected a name such as UNAVAILABLE, INTERNAL, DEADLINE_EXCEEDED)");
  }

  Locations& where_;
  std::optional<SourcePos> null_value_pos_;  // where the empty value being read was written
  int line_offset_ = 0;
};

}  // namespace sluice::config::detail
