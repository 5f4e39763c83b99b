#include "integration/sluice_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "support/bin_path.h"

namespace sluice::testing {

std::string SluiceProcess::simple_config(const std::vector<std::string>& endpoints, int workers,
                                         const std::string& cluster_keys) {
  std::ostringstream y;
  y << "workers: " << workers << "\n"
    << "drain_timeout: 5s\n"
    << "admin: {address: 127.0.0.1:0}\n"
    << "listeners:\n  - name: main\n    address: 127.0.0.1:0\n"
    << "routes:\n  - match: {service: sluice.test.v1.TestService}\n    cluster: backends\n"
    << "clusters:\n  - name: backends\n    connect_timeout: 1s\n"
    << cluster_keys << "    endpoints:\n";
  for (const auto& e : endpoints) y << "      - " << e << "\n";
  return y.str();
}

std::string SluiceProcess::discovery_config(const std::string& discovery) {
  return "workers: 2\nadmin: {address: 127.0.0.1:0}\n"
         "listeners:\n  - name: main\n    address: 127.0.0.1:0\n"
         "clusters:\n  - name: backends\n    discovery: " +
         discovery + "\n";
}

long SluiceProcess::metric(const std::string& sample) const {
  auto page = admin_get("/metrics");
  if (!page) return -1;
  auto at = page->find("\n" + sample + " ");
  if (at == std::string::npos) return -1;
  return std::stol(page->substr(at + sample.size() + 2));
}

std::string SluiceProcess::flow_imbalance() const {
  const char* samples[] = {
      "sluice_calls_in_flight",
      "sluice_http2_unconsumed_bytes{side=\"downstream\"}",
      "sluice_http2_unconsumed_bytes{side=\"upstream\"}",
      "sluice_http2_overconsumed_bytes_total{side=\"downstream\"}",
      "sluice_http2_overconsumed_bytes_total{side=\"upstream\"}",
      "sluice_http2_write_buffered_bytes{side=\"downstream\"}",
      "sluice_http2_write_buffered_bytes{side=\"upstream\"}",
  };
  std::string off;
  // Calls end a moment after the client saw their last frame (the proxy settles on its loop).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  do {
    off.clear();
    for (const char* sample : samples) {
      const long value = metric(sample);
      if (value != 0) off += std::string(sample) + " = " + std::to_string(value) + "; ";
    }
    if (off.empty()) return off;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (std::chrono::steady_clock::now() < deadline);
  return off;
}

Expected<SluiceProcess, std::string> SluiceProcess::start(const std::string& yaml,
                                                          const std::vector<std::string>& extra) {
  SluiceProcess p;
  char tmpl[] = "/tmp/sluice-test-XXXXXX.yaml";
  int fd = mkstemps(tmpl, 5);
  if (fd < 0) return Unexpected(std::string("mkstemps failed"));
  ::close(fd);
  p.config_path_ = tmpl;
  p.config_file_ =
      std::shared_ptr<void>(nullptr, [path = p.config_path_](void*) { std::remove(path.c_str()); });
  std::ofstream(p.config_path_) << yaml;
  std::vector<std::string> args = {
      "--config", p.config_path_, "--log-level",
      std::getenv("SLUICE_TEST_LOG") ? std::getenv("SLUICE_TEST_LOG") : "warn"};
  args.insert(args.end(), extra.begin(), extra.end());
  // SLUICE_TEST_SLUICE_BIN runs another build of the proxy (the TSan one) under these tests;
  // SLUICE_TEST_SLUICE_TSAN_OPTIONS become its TSAN_OPTIONS only.
  const char* bin = std::getenv("SLUICE_TEST_SLUICE_BIN");
  std::string path = bin ? bin : bin_path("sluice");
  if (const char* tsan = std::getenv("SLUICE_TEST_SLUICE_TSAN_OPTIONS")) {
    args.insert(args.begin(), {std::string("TSAN_OPTIONS=") + tsan, path});
    path = "/usr/bin/env";
  }
  auto spawned = ChildProcess::spawn(path, args);
  if (!spawned) return Unexpected(spawned.error());
  p.process_ = std::make_unique<ChildProcess>(std::move(*spawned));
  while (p.address_.empty() || p.admin_.empty()) {
    auto line = p.process_->read_line(std::chrono::seconds(10));
    if (!line) return Unexpected(std::string("sluice did not report its listeners"));
    if (line->rfind("listening on ", 0) == 0 && p.address_.empty()) {
      p.address_ = line->substr(13);
    } else if (line->rfind("admin listening on ", 0) == 0) {
      p.admin_ = line->substr(19);
    }
  }
  return p;
}

std::pair<int, std::string> SluiceProcess::admin_request(const std::string& method,
                                                         const std::string& path) const {
  auto colon = admin_.rfind(':');
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(std::stoi(admin_.substr(colon + 1))));
  inet_pton(AF_INET, admin_.substr(0, colon).c_str(), &addr.sin_addr);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return {0, "cannot connect to admin " + admin_};
  }
  std::string req = method + " " + path +
                    " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  (void)!::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string resp;
  char buf[65536];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) resp.append(buf, n);
  ::close(fd);
  auto body = resp.find("\r\n\r\n");
  if (resp.size() < 12 || body == std::string::npos) return {0, resp};
  return {std::atoi(resp.c_str() + 9), resp.substr(body + 4)};
}

Expected<std::string, std::string> SluiceProcess::admin_get(const std::string& path) const {
  auto [status, body] = admin_request("GET", path);
  if (status != 200)
    return Unexpected("admin " + path + ": " + std::to_string(status) + " " + body);
  return body;
}

void SluiceProcess::rewrite_config(const std::string& yaml) const {
  // Write aside and rename, as a deployment tool would: the proxy never reads half a file.
  const std::string tmp = config_path_ + ".new";
  std::ofstream(tmp) << yaml;
  std::rename(tmp.c_str(), config_path_.c_str());
}

double SluiceProcess::cpu_seconds() const {
  std::ifstream stat("/proc/" + std::to_string(process_->pid()) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // Fields after the ")" that closes the command name: state is field 3, utime 14, stime 15.
  std::istringstream rest(text.substr(text.rfind(')') + 2));
  std::string field;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stol(field);
    if (i == 15) stime = std::stol(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

long SluiceProcess::rss_kib() const {
  std::ifstream status("/proc/" + std::to_string(process_->pid()) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

}  // namespace sluice::testing
