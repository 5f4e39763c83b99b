// A real `sluice` process for integration tests: writes the given YAML to a temporary file,
// starts the proxy on it and waits for its listening lines.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/expected.h"
#include "support/child_process.h"

namespace sluice::testing {

class SluiceProcess {
 public:
  // `yaml` should use port 0 for listeners and admin; the bound ports are read back.
  static Expected<SluiceProcess, std::string> start(const std::string& yaml,
                                                    const std::vector<std::string>& extra = {});
  // A config with one listener, the admin endpoint and one round-robin cluster "backends"
  // with these endpoints, routed for every service; `cluster_keys` (YAML lines indented by four
  // spaces, e.g. "    policy: random\n") go into the cluster.
  static std::string simple_config(const std::vector<std::string>& endpoints, int workers = 1,
                                   const std::string& cluster_keys = "");
  // Two workers, one listener, the admin endpoint, and one cluster "backends" whose endpoints
  // come from `discovery` (a YAML flow mapping such as "{type: file, path: /tmp/x.yaml}").
  static std::string discovery_config(const std::string& discovery);

  const std::string& address() const { return address_; }      // first listener
  const std::string& admin_address() const { return admin_; }  // "127.0.0.1:PORT"
  pid_t pid() const { return process_->pid(); }
  ChildProcess& process() { return *process_; }
  // GET on the admin endpoint; the body, or an error.
  Expected<std::string, std::string> admin_get(const std::string& path) const;
  // Any request to the admin endpoint: the status line's code and the body.
  std::pair<int, std::string> admin_request(const std::string& method,
                                            const std::string& path) const;
  // The value of one sample on the /metrics page ("name{labels}", exactly as printed); -1 if
  // the page cannot be read or has no such sample.
  long metric(const std::string& sample) const;
  // The invariants every scenario must leave behind, once its calls ended (waited for, up to
  // 5 s): no call in flight, every DATA byte received on either side consumed, no window given
  // back twice, nothing left in write buffers. "" when they hold, else what is off.
  std::string flow_imbalance() const;
  // Rewrites the config file the proxy was started with (for reload tests).
  void rewrite_config(const std::string& yaml) const;
  // Resident set size of the process in KiB (from /proc).
  long rss_kib() const;
  // CPU time the process used so far (user + system, from /proc), in seconds.
  double cpu_seconds() const;

 private:
  std::unique_ptr<ChildProcess> process_;
  std::string config_path_;
  std::shared_ptr<void> config_file_;  // removes the file when the last copy goes
  std::string address_;
  std::string admin_;
};

}  // namespace sluice::testing
