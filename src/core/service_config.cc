#include "core/service_config.h"

#include <set>

namespace sluice::core {

std::optional<std::string> duplicate_method_name(const ServiceConfig& config) {
  std::set<std::pair<std::string, std::string>> seen;
  for (const MethodConfig& mc : config.method_configs) {
    for (const MethodName& n : mc.names) {
      if (!seen.emplace(n.service, n.method).second) return n.service + "/" + n.method;
    }
  }
  return std::nullopt;
}

MethodConfigIndex::MethodConfigIndex(const ServiceConfig& config) {
  // The first config naming an entry wins (a valid config names each entry once).
  for (const MethodConfig& mc : config.method_configs) {
    for (const MethodName& n : mc.names) {
      if (n.service.empty()) {
        if (default_ == nullptr) default_ = &mc;
        continue;
      }
      Service& s = services_[n.service];
      if (n.method.empty()) {
        if (s.whole == nullptr) s.whole = &mc;
      } else {
        s.methods.emplace(n.method, &mc);
      }
    }
  }
}

const MethodConfig* MethodConfigIndex::find(std::string_view service,
                                            std::string_view method) const {
  auto s = services_.find(service);
  if (s != services_.end()) {
    auto m = s->second.methods.find(method);
    if (m != s->second.methods.end()) return m->second;
    if (s->second.whole != nullptr) return s->second.whole;
  }
  return default_;
}

}  // namespace sluice::core
