// An incremental HTTP/1.1 request parser for the admin endpoint. Pure: no I/O, no allocation
// beyond the bytes it was fed, hard limits on everything a client controls.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::admin {

struct HttpRequest {
  std::string method;
  std::string target;  // the path, without the query
  std::string query;   // what followed '?', without the '?'
  // Names are stored lower-case (HTTP header names are case-insensitive); values trimmed.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool keep_alive = false;

  // The first header with this name (any case), or nullptr.
  const std::string* header(std::string_view name) const;
};

class HttpRequestParser {
 public:
  enum class State { kNeedMore, kDone, kError };

  static constexpr size_t kMaxHeadBytes = 8 * 1024;  // request line + headers
  static constexpr size_t kMaxBodyBytes = 1024 * 1024;

  // Appends bytes and parses as far as they allow. Once kDone, further bytes are kept for the
  // next request (pipelining) and not parsed until reset_keep_leftover(); kError is final.
  State feed(std::string_view bytes);
  State state() const { return state_; }

  // Valid when feed() returned kDone.
  const HttpRequest& request() const { return request_; }

  // Valid when feed() returned kError: 400, 413, 431, 501 or 505, and a short reason.
  int error_status() const { return error_status_; }
  const std::string& error_message() const { return error_message_; }

  // Forgets the finished request and keeps the bytes that followed it; call feed({}) to parse
  // them.
  void reset_keep_leftover();

 private:
  enum class Phase { kRequestLine, kHeaders, kBody, kDone };

  State advance();
  State fail(int status, std::string message);
  bool parse_request_line(std::string_view line);
  bool parse_header_line(std::string_view line);
  bool finish_head();

  std::string buffer_;
  // buffer_ starts with the current request (and any empty lines before it).
  size_t parsed_ = 0;  // bytes of buffer_ already consumed
  size_t content_length_ = 0;
  bool http11_ = false;
  Phase phase_ = Phase::kRequestLine;
  State state_ = State::kNeedMore;
  HttpRequest request_;
  int error_status_ = 0;
  std::string error_message_;
};

}  // namespace sluice::admin
