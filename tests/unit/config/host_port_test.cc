#include <gtest/gtest.h>

#include "config/config.h"

namespace sluice::config {
namespace {

TEST(ParseHostPort, Ipv4) {
  auto hp = parse_host_port("127.0.0.1:50051");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "127.0.0.1");
  EXPECT_EQ(hp->port, 50051);
}

TEST(ParseHostPort, BracketedIpv6KeepsTheBareAddress) {
  auto hp = parse_host_port("[::1]:8080");
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->host, "::1");
  EXPECT_EQ(hp->port, 8080);
  EXPECT_EQ(hp->to_string(), "[::1]:8080");
}

TEST(ParseHostPort, HostNames) {
  EXPECT_EQ(parse_host_port("backend-0.backends.default.svc.cluster.local:443")->host,
            "backend-0.backends.default.svc.cluster.local");
  EXPECT_EQ(parse_host_port("localhost:1")->port, 1);
  EXPECT_TRUE(parse_host_port("fqdn.example.:80"));
}

TEST(ParseHostPort, PortZeroParsesSoListenersCanAskForAFreePort) {
  EXPECT_EQ(parse_host_port("127.0.0.1:0")->port, 0);
}

TEST(ParseHostPort, RejectsMalformedAddresses) {
  for (const char* bad :
       {"", "127.0.0.1", "127.0.0.1:", ":8080", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:80x",
        "256.0.0.1:80", "1.2.3:80", "::1:80", "[::1]", "[::1]80", "[::1:80", "[nope]:80",
        "-bad.host:80", "bad-.host:80", "a..b:80", "with space:80", "host/x:80"}) {
    EXPECT_FALSE(parse_host_port(bad)) << "accepted \"" << bad << "\"";
  }
}

TEST(ParseHostPort, ErrorExplainsMissingBrackets) {
  auto hp = parse_host_port("::1:80");
  ASSERT_FALSE(hp);
  EXPECT_NE(hp.error().find("brackets"), std::string::npos) << hp.error();
}

TEST(HostPortToString, RoundTrips) {
  for (const char* text : {"127.0.0.1:8080", "[2001:db8::1]:443", "example.com:0"}) {
    auto hp = parse_host_port(text);
    ASSERT_TRUE(hp) << text;
    EXPECT_EQ(hp->to_string(), text);
  }
}

}  // namespace
}  // namespace sluice::config
