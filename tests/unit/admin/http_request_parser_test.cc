#include <string>

#include <gtest/gtest.h>

#include "admin/http_request.h"

namespace sluice::admin {
namespace {

using State = HttpRequestParser::State;

constexpr std::string_view kSimpleGet =
    "GET /metrics?name=x&y=1 HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n";

State FeedWhole(HttpRequestParser& parser, std::string_view bytes) { return parser.feed(bytes); }

State FeedByteByByte(HttpRequestParser& parser, std::string_view bytes) {
  State state = State::kNeedMore;
  for (char c : bytes) {
    state = parser.feed(std::string_view(&c, 1));
    if (state == State::kError) break;
  }
  return state;
}

int ErrorStatusOf(std::string_view bytes) {
  HttpRequestParser parser;
  State state = parser.feed(bytes);
  if (state != State::kError) return 0;
  return parser.error_status();
}

TEST(HttpRequestParserTest, ParsesSimpleGet) {
  HttpRequestParser parser;
  ASSERT_EQ(FeedWhole(parser, kSimpleGet), State::kDone);
  const HttpRequest& request = parser.request();
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.target, "/metrics");
  EXPECT_EQ(request.query, "name=x&y=1");
  ASSERT_EQ(request.headers.size(), 2u);
  EXPECT_EQ(request.headers[0].first, "host");
  EXPECT_EQ(request.headers[0].second, "localhost");
  EXPECT_TRUE(request.body.empty());
  EXPECT_TRUE(request.keep_alive);
}

TEST(HttpRequestParserTest, ByteByByteGivesTheSameRequest) {
  std::string bytes = "POST /config HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world";
  HttpRequestParser whole;
  HttpRequestParser split;
  ASSERT_EQ(FeedWhole(whole, bytes), State::kDone);
  // Every prefix but the full request is incomplete.
  for (size_t i = 0; i + 1 < bytes.size(); ++i) {
    ASSERT_EQ(split.feed(bytes.substr(i, 1)), State::kNeedMore) << "at byte " << i;
  }
  ASSERT_EQ(split.feed(bytes.substr(bytes.size() - 1)), State::kDone);
  EXPECT_EQ(split.request().method, whole.request().method);
  EXPECT_EQ(split.request().target, whole.request().target);
  EXPECT_EQ(split.request().headers, whole.request().headers);
  EXPECT_EQ(split.request().body, "hello world");
  EXPECT_EQ(whole.request().body, "hello world");
}

TEST(HttpRequestParserTest, HeaderNamesAreCaseInsensitiveAndValuesTrimmed) {
  HttpRequestParser parser;
  ASSERT_EQ(parser.feed("GET / HTTP/1.1\r\nHOST: a\r\nX-Thing:  \tv a l \t\r\n"
                        "CoNtEnT-LeNgTh: 2\r\n\r\nok"),
            State::kDone);
  const HttpRequest& request = parser.request();
  ASSERT_NE(request.header("x-thing"), nullptr);
  EXPECT_EQ(*request.header("X-THING"), "v a l");
  EXPECT_EQ(*request.header("Host"), "a");
  EXPECT_EQ(request.header("missing"), nullptr);
  EXPECT_EQ(request.body, "ok");
}

TEST(HttpRequestParserTest, PipelinedRequestsParseOneAfterAnother) {
  std::string bytes =
      "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
      "POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz"
      "GET /c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
      "GET /d HT";
  HttpRequestParser parser;
  ASSERT_EQ(parser.feed(bytes), State::kDone);
  EXPECT_EQ(parser.request().target, "/a");
  parser.reset_keep_leftover();
  ASSERT_EQ(parser.feed({}), State::kDone);
  EXPECT_EQ(parser.request().target, "/b");
  EXPECT_EQ(parser.request().body, "xyz");
  parser.reset_keep_leftover();
  ASSERT_EQ(parser.feed({}), State::kDone);
  EXPECT_EQ(parser.request().target, "/c");
  EXPECT_FALSE(parser.request().keep_alive);
  parser.reset_keep_leftover();
  EXPECT_EQ(parser.feed({}), State::kNeedMore);
  EXPECT_EQ(parser.feed("TP/1.1\r\nHost: h\r\n\r\n"), State::kDone);
  EXPECT_EQ(parser.request().target, "/d");
}

TEST(HttpRequestParserTest, BytesAfterDoneWaitForReset) {
  HttpRequestParser parser;
  ASSERT_EQ(parser.feed(kSimpleGet), State::kDone);
  EXPECT_EQ(parser.feed("GET /next HTTP/1.1\r\nHost: h\r\n\r\n"), State::kDone);
  EXPECT_EQ(parser.request().target, "/metrics");  // unchanged until reset
  parser.reset_keep_leftover();
  ASSERT_EQ(parser.feed({}), State::kDone);
  EXPECT_EQ(parser.request().target, "/next");
}

TEST(HttpRequestParserTest, IgnoresEmptyLinesBeforeTheRequestAndAcceptsBareLf) {
  HttpRequestParser parser;
  ASSERT_EQ(parser.feed("\r\n\r\nGET /x HTTP/1.1\nHost: h\n\n"), State::kDone);
  EXPECT_EQ(parser.request().target, "/x");
}

TEST(HttpRequestParserTest, AbsoluteFormTargetKeepsThePath) {
  HttpRequestParser parser;
  ASSERT_EQ(parser.feed("GET http://h:9901/clusters?x=1 HTTP/1.1\r\nHost: h\r\n\r\n"),
            State::kDone);
  EXPECT_EQ(parser.request().target, "/clusters");
  EXPECT_EQ(parser.request().query, "x=1");
}

TEST(HttpRequestParserTest, KeepAliveRules) {
  struct Case {
    std::string_view head;
    bool keep_alive;
  };
  const Case cases[] = {
      {"GET / HTTP/1.1\r\nHost: h\r\n\r\n", true},
      {"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", false},
      {"GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, CLOSE\r\n\r\n", false},
      {"GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n\r\n", true},
      {"GET / HTTP/1.0\r\n\r\n", false},
      {"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true},
      {"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false},
  };
  for (const Case& c : cases) {
    HttpRequestParser parser;
    ASSERT_EQ(parser.feed(c.head), State::kDone) << c.head;
    EXPECT_EQ(parser.request().keep_alive, c.keep_alive) << c.head;
  }
}

TEST(HttpRequestParserTest, MalformedRequestsAre400) {
  const std::string_view cases[] = {
      "GET\r\n\r\n",
      "GET /\r\n\r\n",
      "GET  / HTTP/1.1\r\nHost: h\r\n\r\n",
      "G(T / HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET / HTTP/1.1 \r\nHost: h\r\n\r\n",
      "GET / http/1.1\r\nHost: h\r\n\r\n",
      "GET / HTTP/11\r\nHost: h\r\n\r\n",
      "GET relative HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET * HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET /\x01 HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET / HTTP/1.1\r\n\r\n",                                // no Host in 1.1
      "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",          // two Hosts
      "GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n",          // header without colon
      "GET / HTTP/1.1\r\nHost: h\r\nBad Name: v\r\n\r\n",      // space in name
      "GET / HTTP/1.1\r\nHost: h\r\nName : v\r\n\r\n",         // space before colon
      "GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n",              // empty name
      "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n folded\r\n\r\n",  // obs-fold
      "GET / HTTP/1.1\r\nHost: h\r\nX: a\x01z\r\n\r\n",        // control in value
      "GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n",               // bare CR
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1x\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
  };
  for (std::string_view bytes : cases) {
    EXPECT_EQ(ErrorStatusOf(bytes), 400) << bytes;
  }
  // With the whole bytes fed at once or one at a time, the same error.
  for (std::string_view bytes : cases) {
    HttpRequestParser parser;
    ASSERT_EQ(FeedByteByByte(parser, bytes), State::kError) << bytes;
    EXPECT_EQ(parser.error_status(), 400) << bytes;
    EXPECT_FALSE(parser.error_message().empty());
  }
}

TEST(HttpRequestParserTest, RepeatedEqualContentLengthIsAccepted) {
  HttpRequestParser parser;
  ASSERT_EQ(parser.feed("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n"
                        "Content-Length: 02\r\n\r\nab"),
            State::kDone);
  EXPECT_EQ(parser.request().body, "ab");
}

TEST(HttpRequestParserTest, UnsupportedVersionIs505) {
  EXPECT_EQ(ErrorStatusOf("GET / HTTP/2.0\r\n\r\n"), 505);
  EXPECT_EQ(ErrorStatusOf("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 505);
  EXPECT_EQ(ErrorStatusOf("GET / HTTP/1.2\r\nHost: h\r\n\r\n"), 505);
  EXPECT_EQ(ErrorStatusOf("GET / HTTP/0.9\r\n\r\n"), 505);
}

TEST(HttpRequestParserTest, TransferEncodingIs501) {
  EXPECT_EQ(ErrorStatusOf("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"), 501);
  EXPECT_EQ(ErrorStatusOf("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
                          "transfer-encoding: chunked\r\n\r\n"),
            501);
}

TEST(HttpRequestParserTest, HeadLimitIs431) {
  std::string head = "GET / HTTP/1.1\r\nHost: h\r\nX-Pad: ";
  std::string end = "\r\n\r\n";
  // Exactly at the limit: accepted.
  std::string at_limit =
      head + std::string(HttpRequestParser::kMaxHeadBytes - head.size() - end.size(), 'a') + end;
  ASSERT_EQ(at_limit.size(), HttpRequestParser::kMaxHeadBytes);
  HttpRequestParser ok;
  EXPECT_EQ(ok.feed(at_limit), State::kDone);
  // One byte more: rejected, whether complete or still arriving.
  std::string over =
      head + std::string(HttpRequestParser::kMaxHeadBytes - head.size() - end.size() + 1, 'a') +
      end;
  EXPECT_EQ(ErrorStatusOf(over), 431);
  HttpRequestParser unterminated;
  EXPECT_EQ(unterminated.feed(std::string(HttpRequestParser::kMaxHeadBytes, 'a')),
            State::kNeedMore);
  EXPECT_EQ(unterminated.feed("a"), State::kError);
  EXPECT_EQ(unterminated.error_status(), 431);
  // Many small headers count too.
  std::string many = "GET / HTTP/1.1\r\nHost: h\r\n";
  while (many.size() <= HttpRequestParser::kMaxHeadBytes) many += "X: y\r\n";
  EXPECT_EQ(ErrorStatusOf(many + "\r\n"), 431);
  // Empty lines before the request are not free either.
  EXPECT_EQ(ErrorStatusOf(std::string(HttpRequestParser::kMaxHeadBytes, '\n') + "GET /"), 431);
}

TEST(HttpRequestParserTest, BodyLimitIs413) {
  std::string at_limit = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: " +
                         std::to_string(HttpRequestParser::kMaxBodyBytes) + "\r\n\r\n";
  HttpRequestParser ok;
  EXPECT_EQ(ok.feed(at_limit), State::kNeedMore);
  EXPECT_EQ(ok.feed(std::string(HttpRequestParser::kMaxBodyBytes, 'b')), State::kDone);
  EXPECT_EQ(ok.request().body.size(), HttpRequestParser::kMaxBodyBytes);

  EXPECT_EQ(ErrorStatusOf("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: " +
                          std::to_string(HttpRequestParser::kMaxBodyBytes + 1) + "\r\n\r\n"),
            413);
  EXPECT_EQ(ErrorStatusOf("POST / HTTP/1.1\r\nHost: h\r\n"
                          "Content-Length: 99999999999999999999999999\r\n\r\n"),
            413);
}

TEST(HttpRequestParserTest, ErrorIsFinal) {
  HttpRequestParser parser;
  ASSERT_EQ(parser.feed("BAD\r\n"), State::kError);
  EXPECT_EQ(parser.feed("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), State::kError);
  parser.reset_keep_leftover();
  EXPECT_EQ(parser.feed({}), State::kError);
  EXPECT_EQ(parser.error_status(), 400);
}

TEST(HttpRequestParserTest, FailsEarlyOnABadRequestLine) {
  // No need to wait for the rest of the head (or 8 KiB of it) to reject a bad request line.
  HttpRequestParser parser;
  EXPECT_EQ(parser.feed("NOT A REQUEST LINE\r\n"), State::kError);
}

}  // namespace
}  // namespace sluice::admin
