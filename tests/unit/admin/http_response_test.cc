#include <gtest/gtest.h>

#include "admin/http_response.h"

namespace sluice::admin {
namespace {

TEST(HttpResponseTest, SerializesKeepAlive) {
  HttpResponse response;
  response.body = "ok\n";
  response.headers.emplace_back("Cache-Control", "no-cache");
  EXPECT_EQ(serialize(response, /*keep_alive=*/true),
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 3\r\n"
            "Connection: keep-alive\r\n"
            "Cache-Control: no-cache\r\n"
            "\r\n"
            "ok\n");
}

TEST(HttpResponseTest, SerializesCloseAndEmptyBody) {
  HttpResponse response;
  response.status = 404;
  response.content_type.clear();
  EXPECT_EQ(serialize(response, /*keep_alive=*/false),
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
}

TEST(HttpResponseTest, DropsFramingAndMalformedHeaders) {
  HttpResponse response;
  response.body = "x";
  response.headers = {{"content-length", "99"},
                      {"Connection", "upgrade"},
                      {"Transfer-Encoding", "chunked"},
                      {"X-Evil", "a\r\nInjected: 1"},
                      {"Bad Name", "v"},
                      {"", "v"},
                      {"X-Good", "yes"}};
  EXPECT_EQ(serialize(response, true),
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 1\r\n"
            "Connection: keep-alive\r\n"
            "X-Good: yes\r\n"
            "\r\n"
            "x");
}

TEST(HttpResponseTest, ReasonPhrases) {
  EXPECT_EQ(reason_phrase(405), "Method Not Allowed");
  EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(reason_phrase(505), "HTTP Version Not Supported");
  EXPECT_EQ(reason_phrase(299), "Unknown");
}

TEST(HttpResponseTest, TextResponse) {
  HttpResponse response = text_response(503, "draining");
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(response.body, "draining\n");
}

}  // namespace
}  // namespace sluice::admin
