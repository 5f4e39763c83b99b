#include <algorithm>
#include <cctype>
#include <charconv>

#include "admin/http_request.h"

namespace sluice::admin {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

// RFC 9110 tchar: the characters of methods and header names.
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

// Visible ASCII and obs-text: what a request target may contain.
bool is_target_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u != 0x7f;
}

// Header field values: visible characters, SP, HTAB and obs-text; no other controls.
bool is_value_char(char c) {
  auto u = static_cast<unsigned char>(c);
  return u == '\t' || (u >= 0x20 && u != 0x7f);
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Whether a comma-separated header value (Connection) lists `token`, in any case.
bool lists_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    if (iequals(trim_ows(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

const std::string* HttpRequest::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) return &value;
  }
  return nullptr;
}

HttpRequestParser::State HttpRequestParser::feed(std::string_view bytes) {
  if (state_ == State::kError) return state_;
  buffer_.append(bytes);
  if (state_ == State::kDone) return state_;
  state_ = advance();
  return state_;
}

void HttpRequestParser::reset_keep_leftover() {
  if (state_ == State::kError) return;
  buffer_.erase(0, parsed_);
  parsed_ = 0;
  content_length_ = 0;
  http11_ = false;
  phase_ = Phase::kRequestLine;
  state_ = State::kNeedMore;
  request_ = HttpRequest{};
}

HttpRequestParser::State HttpRequestParser::fail(int status, std::string message) {
  error_status_ = status;
  error_message_ = std::move(message);
  return State::kError;
}

HttpRequestParser::State HttpRequestParser::advance() {
  while (phase_ == Phase::kRequestLine || phase_ == Phase::kHeaders) {
    size_t newline = buffer_.find('\n', parsed_);
    if (newline == std::string::npos) {
      if (buffer_.size() > kMaxHeadBytes) {
        return fail(431, "request line and headers exceed 8 KiB");
      }
      return State::kNeedMore;
    }
    if (newline + 1 > kMaxHeadBytes) {
      return fail(431, "request line and headers exceed 8 KiB");
    }
    std::string_view line(buffer_.data() + parsed_, newline - parsed_);
    parsed_ = newline + 1;
    // CRLF ends a line; a bare LF is tolerated (RFC 9112 2.2), a bare CR is not.
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find('\r') != std::string_view::npos) return fail(400, "bare CR in request head");

    if (phase_ == Phase::kRequestLine) {
      if (line.empty()) continue;  // empty lines before a request are ignored (RFC 9112 2.2)
      if (!parse_request_line(line)) return State::kError;
      phase_ = Phase::kHeaders;
    } else if (!line.empty()) {
      if (!parse_header_line(line)) return State::kError;
    } else {
      if (!finish_head()) return State::kError;
      phase_ = Phase::kBody;
    }
  }
  if (phase_ == Phase::kBody) {
    if (buffer_.size() - parsed_ < content_length_) return State::kNeedMore;
    request_.body.assign(buffer_, parsed_, content_length_);
    parsed_ += content_length_;
    phase_ = Phase::kDone;
  }
  return State::kDone;
}

bool HttpRequestParser::parse_request_line(std::string_view line) {
  size_t first_space = line.find(' ');
  size_t last_space = line.rfind(' ');
  if (first_space == std::string_view::npos || first_space == last_space) {
    fail(400, "malformed request line");
    return false;
  }
  std::string_view method = line.substr(0, first_space);
  std::string_view target = line.substr(first_space + 1, last_space - first_space - 1);
  std::string_view version = line.substr(last_space + 1);
  if (!is_token(method)) {
    fail(400, "malformed method");
    return false;
  }
  if (target.empty() || !std::all_of(target.begin(), target.end(), is_target_char)) {
    fail(400, "malformed request target");
    return false;
  }
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
      !std::isdigit(static_cast<unsigned char>(version[5])) ||
      !std::isdigit(static_cast<unsigned char>(version[7]))) {
    fail(400, "malformed HTTP version");
    return false;
  }
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    fail(505, "only HTTP/1.0 and HTTP/1.1 are supported");
    return false;
  }
  // Absolute form (what proxies send): keep only the path and query.
  if (size_t scheme_end = target.find("://");
      target.front() != '/' && scheme_end != std::string_view::npos) {
    size_t path_start = target.find('/', scheme_end + 3);
    target =
        path_start == std::string_view::npos ? std::string_view("/") : target.substr(path_start);
  }
  bool asterisk = target == "*" && method == "OPTIONS";
  if (target.front() != '/' && !asterisk) {
    fail(400, "request target must be a path");
    return false;
  }
  size_t question = target.find('?');
  request_.method = method;
  request_.target = target.substr(0, question);
  if (question != std::string_view::npos) request_.query = target.substr(question + 1);
  http11_ = version == "HTTP/1.1";
  return true;
}

bool HttpRequestParser::parse_header_line(std::string_view line) {
  if (line.front() == ' ' || line.front() == '\t') {
    fail(400, "obsolete header line folding");
    return false;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) {
    fail(400, "malformed header line");
    return false;
  }
  std::string_view value = trim_ows(line.substr(colon + 1));
  if (!std::all_of(value.begin(), value.end(), is_value_char)) {
    fail(400, "control character in header value");
    return false;
  }
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(), lower);
  request_.headers.emplace_back(std::move(name), std::string(value));
  return true;
}

bool HttpRequestParser::finish_head() {
  bool have_length = false;
  bool close = false;
  bool keep_alive = false;
  int hosts = 0;
  for (const auto& [name, value] : request_.headers) {
    if (name == "transfer-encoding") {
      fail(501, "Transfer-Encoding is not supported; send Content-Length");
      return false;
    }
    if (name == "host") ++hosts;
    if (name == "connection") {
      close = close || lists_token(value, "close");
      keep_alive = keep_alive || lists_token(value, "keep-alive");
    }
    if (name != "content-length") continue;
    if (value.empty() ||
        !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      fail(400, "malformed Content-Length");
      return false;
    }
    size_t length = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
    if (ec != std::errc() || length > kMaxBodyBytes) {
      fail(413, "request body exceeds 1 MiB");
      return false;
    }
    if (have_length && length != content_length_) {
      fail(400, "conflicting Content-Length headers");
      return false;
    }
    have_length = true;
    content_length_ = length;
  }
  // HTTP/1.1 keeps the connection unless told to close; HTTP/1.0 closes unless asked to keep it.
  request_.keep_alive = !close && (http11_ || keep_alive);
  if (hosts > 1 || (http11_ && hosts == 0)) {
    fail(400, "HTTP/1.1 requires exactly one Host header");
    return false;
  }
  return true;
}

}  // namespace sluice::admin
