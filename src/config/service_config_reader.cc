#include "config/service_config_reader.h"

#include "config/node_reader.h"

namespace sluice::config {
namespace {

using namespace detail;

// Fields of gRPC's service config that sluice does not implement: named, so the error says why
// instead of "unknown key".
constexpr std::string_view kNotImplemented[] = {
    "loadBalancingPolicy", "loadBalancingConfig",    "healthCheckConfig",
    "waitForReady",        "maxRequestMessageBytes", "maxResponseMessageBytes"};

class ServiceConfigReader : NodeReader {
 public:
  ServiceConfigReader(Locations& where, int line_offset) : NodeReader(where, line_offset) {}

  MaybeError read(const YAML::Node& node, const std::string& path, core::ServiceConfig& out) {
    auto rules = with_not_implemented({
        {"methodConfig",
         [&](const YAML::Node& v, const std::string& p) {
           return read_list(v, p, [&](const YAML::Node& item, const std::string& item_path) {
             return read_method_config(item, item_path, out.method_configs.emplace_back());
           });
         }},
        {"retryThrottling",
         [&](const YAML::Node& v, const std::string& p) {
           return read_throttling(v, p, out.retry_throttling.emplace());
         }},
    });
    if (auto error = read_mapping(node, path, rules)) return error;
    if (auto name = core::duplicate_method_name(out)) {
      return error_at(node, child_path(path, "methodConfig"),
                      "the name " + quoted(*name) + " is in more than one method config");
    }
    return std::nullopt;
  }

 private:
  std::vector<FieldRule> with_not_implemented(std::vector<FieldRule> rules) {
    for (std::string_view key : kNotImplemented) {
      rules.push_back({key, [this, key](const YAML::Node& v, const std::string& p) -> MaybeError {
                         return error_at(v, p,
                                         std::string(key) +
                                             " is not implemented by sluice (it balances with "
                                             "the cluster's policy and queues calls while "
                                             "endpoints connect)");
                       }});
    }
    return rules;
  }

  MaybeError read_method_config(const YAML::Node& node, const std::string& path,
                                core::MethodConfig& mc) {
    auto rules = with_not_implemented({
        {"name",
         [&](const YAML::Node& v, const std::string& p) {
           return read_list(v, p, [&](const YAML::Node& item, const std::string& item_path) {
             return read_name(item, item_path, mc.names.emplace_back());
           });
         }},
        {"timeout",
         [&](const YAML::Node& v, const std::string& p) {
           return assign(proto_duration(v, p), mc.timeout.emplace());
         }},
        {"retryPolicy", [&](const YAML::Node& v,
                            const std::string& p) { return read_retry(v, p, mc.retry.emplace()); }},
        {"hedgingPolicy",
         [&](const YAML::Node& v, const std::string& p) -> MaybeError {
           return error_at(v, p, "hedgingPolicy is not implemented yet (retryPolicy is)");
         }},
    });
    if (auto error = read_mapping(node, path, rules)) return error;
    if (mc.names.empty()) {
      return error_at(node, child_path(path, "name"),
                      "a method config needs at least one name ([{}] for every call)");
    }
    return std::nullopt;
  }

  // {service: S, method: M}, {service: S} (every method of S) or {} (every call).
  MaybeError read_name(const YAML::Node& node, const std::string& path, core::MethodName& name) {
    if (auto error =
            read_mapping(node, path,
                         {{"service",
                           [&](const YAML::Node& v, const std::string& p) {
                             return assign(service_or_method(v, p, is_service_name), name.service);
                           }},
                          {"method", [&](const YAML::Node& v, const std::string& p) {
                             return assign(service_or_method(v, p, is_method_name), name.method);
                           }}})) {
      return error;
    }
    if (!name.method.empty() && name.service.empty()) {
      return error_at(node, child_path(path, "method"), "a method needs its service");
    }
    return std::nullopt;
  }

  Expected<std::string, ConfigError> service_or_method(const YAML::Node& node,
                                                       const std::string& path,
                                                       bool (*valid)(std::string_view)) {
    auto text = scalar(node, path);
    if (text && !text->empty() && !valid(*text)) {
      return Unexpected<ConfigError>(
          error_at(node, path, "not a gRPC service or method name: " + quoted(*text)));
    }
    return text;
  }

  MaybeError read_retry(const YAML::Node& node, const std::string& path, core::RetryPolicy& retry) {
    auto required = [](FieldRule rule) {
      rule.required = true;
      return rule;
    };
    return read_mapping(
        node, path,
        {required({"maxAttempts",
                   [&](const YAML::Node& v, const std::string& p) {
                     return assign(max_attempts(v, p), retry.max_attempts);
                   }}),
         required({"initialBackoff",
                   [&](const YAML::Node& v, const std::string& p) {
                     return assign(proto_duration(v, p), retry.initial_backoff);
                   }}),
         required({"maxBackoff",
                   [&](const YAML::Node& v, const std::string& p) {
                     return assign(proto_duration(v, p), retry.max_backoff);
                   }}),
         required({"backoffMultiplier",
                   [&](const YAML::Node& v, const std::string& p) -> MaybeError {
                     auto m = decimal(v, p, 0, 1e6);
                     if (!m) return m.error();
                     if (*m <= 0) return error_at(v, p, "must be above 0");
                     retry.backoff_multiplier = *m;
                     return std::nullopt;
                   }}),
         required({"retryableStatusCodes", [&](const YAML::Node& v, const std::string& p) {
                     return read_codes(v, p, retry.retryable_status_codes, /*may_be_empty=*/false);
                   }})});
  }

  MaybeError read_throttling(const YAML::Node& node, const std::string& path,
                             core::RetryThrottling& t) {
    return read_mapping(node, path,
                        {{"maxTokens",
                          [&](const YAML::Node& v, const std::string& p) {
                            return assign(number(v, p, 1, 1000), t.max_tokens);
                          },
                          /*required=*/true},
                         {"tokenRatio",
                          [&](const YAML::Node& v, const std::string& p) -> MaybeError {
                            auto r = decimal(v, p, 0, 1000);
                            if (!r) return r.error();
                            if (*r < 0.001) return error_at(v, p, "must be at least 0.001");
                            t.token_ratio = *r;
                            return std::nullopt;
                          },
                          /*required=*/true}});
  }

  // 2 or more; A6 treats values above 5 as 5.
  Expected<int, ConfigError> max_attempts(const YAML::Node& node, const std::string& path) {
    auto n = number(node, path, 2, 1000000);
    if (!n) return Unexpected<ConfigError>(n.error());
    return static_cast<int>(std::min<uint64_t>(*n, core::RetryPolicy::kMaxAttempts));
  }

  Expected<std::chrono::nanoseconds, ConfigError> proto_duration(const YAML::Node& node,
                                                                 const std::string& path) {
    auto text = scalar(node, path);
    if (!text) return Unexpected<ConfigError>(text.error());
    auto value = parse_proto_duration(*text);
    if (!value) return Unexpected<ConfigError>(error_at(node, path, value.error()));
    return *value;
  }

  // A list of status codes by name ("UNAVAILABLE") or number (14).
  MaybeError read_codes(const YAML::Node& node, const std::string& path, core::StatusCodeSet& set,
                        bool may_be_empty) {
    if (auto error = read_list(node, path, [&](const YAML::Node& v, const std::string& p) {
          if (v.IsScalar() && !v.Scalar().empty() && v.Scalar()[0] >= '0' && v.Scalar()[0] <= '9') {
            auto code = number(v, p, 0, core::StatusCodeSet::kCodes - 1);
            if (!code) return MaybeError(code.error());
            set.add(static_cast<int>(*code));
            return MaybeError();
          }
          uint32_t bits = 0;
          if (auto error = read_status_code(v, p, bits)) return error;
          for (int c = 0; c < core::StatusCodeSet::kCodes; ++c) {
            if (bits & (1u << c)) set.add(c);
          }
          return MaybeError();
        })) {
      return error;
    }
    if (!may_be_empty && set.empty()) return error_at(node, path, "needs at least one status code");
    return std::nullopt;
  }
};

}  // namespace

std::optional<ConfigError> read_service_config(const YAML::Node& node, const std::string& path,
                                               Locations& where, core::ServiceConfig& out) {
  if (!node.IsScalar()) return ServiceConfigReader(where, 0).read(node, path, out);
  // The JSON text: JSON is YAML, so yaml-cpp reads it with positions. A block scalar's text
  // starts on the line after its indicator.
  const std::string& text = node.Scalar();
  const int offset = node.Mark().line + (text.find('\n') != std::string::npos ? 1 : 0);
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    return ConfigError{where.file(), e.mark.line + 1 + offset, e.mark.column + 1, path,
                       "service config is not valid JSON: " + e.msg};
  }
  if (!root.IsMap()) {
    return ConfigError{where.file(), node.Mark().line + 1, node.Mark().column + 1, path,
                       "service config must be a JSON object"};
  }
  return ServiceConfigReader(where, offset).read(root, path, out);
}

}  // namespace sluice::config
