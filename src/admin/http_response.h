// An HTTP/1.1 response of the admin endpoint and its serialization.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::admin {

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  // Extra headers. Content-Type (from content_type), Content-Length, Connection and
  // Transfer-Encoding belong to serialize() and are ignored here, as are malformed headers.
  std::vector<std::pair<std::string, std::string>> headers;
};

// The standard reason phrase of a status code ("Unknown" for unlisted codes).
std::string_view reason_phrase(int status);

// Status line, headers (Content-Length always, Connection: keep-alive or close), body.
std::string serialize(const HttpResponse& response, bool keep_alive);

// A plain-text response: `status` with `message` plus a newline as the body.
HttpResponse text_response(int status, std::string_view message);

}  // namespace sluice::admin
