// Fuzzes the admin HTTP/1.1 request parser. Besides crashes, checks that feeding the input in
// fuzzer-chosen pieces parses to exactly what feeding it whole does (the parser is incremental),
// and that every error carries one of the statuses the parser promises.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "admin/http_request.h"
#include "admin/http_response.h"

namespace {

using sluice::admin::HttpRequestParser;

struct Outcome {
  std::vector<std::string> requests;  // a flattened form of each parsed request
  int error_status = 0;
  bool operator==(const Outcome&) const = default;
};

std::string Flatten(const sluice::admin::HttpRequest& request) {
  std::string out = request.method + '\0' + request.target + '\0' + request.query + '\0';
  for (const auto& [name, value] : request.headers) out += name + '\0' + value + '\0';
  out += request.body;
  out += request.keep_alive ? "\1" : "\2";
  return out;
}

// Drains every finished request, pipelining style.
void Collect(HttpRequestParser& parser, HttpRequestParser::State state, Outcome& outcome) {
  while (state == HttpRequestParser::State::kDone) {
    const auto& request = parser.request();
    if (request.body.size() > HttpRequestParser::kMaxBodyBytes) __builtin_trap();
    // Serializing a response for it must not trip anything either.
    sluice::admin::HttpResponse response;
    response.body = request.target;
    response.headers.emplace_back(request.method, request.query);
    (void)sluice::admin::serialize(response, request.keep_alive);
    outcome.requests.push_back(Flatten(request));
    parser.reset_keep_leftover();
    state = parser.feed({});
  }
  if (state == HttpRequestParser::State::kError) {
    int status = parser.error_status();
    if (status != 400 && status != 413 && status != 431 && status != 501 && status != 505) {
      __builtin_trap();
    }
    if (parser.error_message().empty()) __builtin_trap();
    outcome.error_status = status;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks the piece size for the split feed.
  size_t piece = 1 + data[0] % 16;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

  Outcome whole;
  HttpRequestParser whole_parser;
  Collect(whole_parser, whole_parser.feed(input), whole);

  Outcome split;
  HttpRequestParser split_parser;
  for (size_t at = 0; at < input.size() && split.error_status == 0; at += piece) {
    Collect(split_parser, split_parser.feed(input.substr(at, piece)), split);
  }

  if (!(whole == split)) __builtin_trap();
  return 0;
}
