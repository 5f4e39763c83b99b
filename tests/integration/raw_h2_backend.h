// A backend that speaks raw HTTP/2 (nghttp2, its own thread) for what a grpc++ server will not
// do on demand: refuse streams (RST_STREAM REFUSED_STREAM) and reset them with any error code.
// A request without instructions gets a plain gRPC answer: one empty message, grpc-status 0,
// `x-backend-id: <id>`, what it received of the request body: `x-body-bytes` (a count) and
// `x-body-fnv` (its FNV-1a digest, payload_pattern.h, in decimal), and the request's
// grpc-previous-rpc-attempts as `x-previous-rpc-attempts` ("0" when absent).
//
// Instructions ride in the request metadata `x-raw-action` (the proxy forwards it):
//   "rst:<code>"               RST_STREAM <code> (decimal) instead of any response
//   "rst-after-headers:<code>" response headers, then RST_STREAM <code>
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "base/expected.h"

namespace sluice::testing {

class RawH2Backend {
 public:
  struct Options {
    std::string id = "raw";
    // The first `refuse_first` requests get RST_STREAM REFUSED_STREAM, whatever they ask: once
    // the whole request arrived, or (refuse_at_headers) as soon as its HEADERS did, while
    // the body may still be on its way.
    int refuse_first = 0;
    bool refuse_at_headers = false;
    // SETTINGS_INITIAL_WINDOW_SIZE it advertises (a request body larger than this cannot be
    // sent whole before the backend answers).
    uint32_t stream_window = 65535;
    // Once one request's body has passed this many bytes (0: never), a graceful GOAWAY
    // (NO_ERROR) whose last stream id is below that stream's: it was not processed, so the
    // proxy may replay it elsewhere. Once per backend; the connection stays open for the proxy
    // to close.
    size_t goaway_after_body_bytes = 0;
    // The first `fail_first` requests (after any refusals) get a Trailers-Only answer with
    // grpc-status `fail_code`, and grpc-retry-pushback-ms `pushback` unless it is empty.
    int fail_first = 0;
    int fail_code = 14;
    std::string pushback{};
  };

  // Listens on 127.0.0.1:0 and serves from a thread until destroyed.
  static Expected<std::unique_ptr<RawH2Backend>, std::string> start(Options options);
  ~RawH2Backend();

  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int refused() const { return refused_.load(); }
  const Options& options() const { return options_; }
  int answered() const { return answered_.load(); }
  int reset() const { return reset_.load(); }
  int goaways() const { return goaways_.load(); }
  int failed() const { return failed_.load(); }

  struct Connection;  // one accepted connection (raw_h2_backend.cc)

 private:
  RawH2Backend(int listen_fd, uint16_t port, Options options);
  void serve();
  friend struct Connection;

  int listen_fd_;
  uint16_t port_;
  Options options_;
  int wake_fds_[2] = {-1, -1};  // a pipe: the destructor writes to stop the thread
  std::atomic<int> refused_{0};
  std::atomic<int> answered_{0};
  std::atomic<int> reset_{0};
  std::atomic<int> goaways_{0};
  std::atomic<int> failed_{0};
  std::thread thread_;
};

}  // namespace sluice::testing
