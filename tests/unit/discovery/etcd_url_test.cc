// etcd://HOST:PORT[,HOST:PORT]/PREFIX, as the testserver's --register takes it.
#include "discovery/etcd_url.h"

#include <gtest/gtest.h>

namespace sluice::discovery {
namespace {

TEST(EtcdUrl, HostAndPrefix) {
  auto t = parse_etcd_url("etcd://127.0.0.1:2379/sluice/backends/");
  ASSERT_TRUE(t) << t.error();
  ASSERT_EQ(t->endpoints.size(), 1u);
  EXPECT_EQ(t->endpoints[0], (config::HostPort{"127.0.0.1", 2379}));
  EXPECT_EQ(t->prefix, "/sluice/backends/");
}

TEST(EtcdUrl, PrefixAlwaysEndsInASlash) {
  auto t = parse_etcd_url("etcd://etcd.local:2379/svc");
  ASSERT_TRUE(t) << t.error();
  EXPECT_EQ(t->endpoints[0].host, "etcd.local");
  EXPECT_EQ(t->prefix, "/svc/");
}

TEST(EtcdUrl, SeveralMembers) {
  auto t = parse_etcd_url("etcd://10.0.0.1:2379,[::1]:2380/p/");
  ASSERT_TRUE(t) << t.error();
  ASSERT_EQ(t->endpoints.size(), 2u);
  EXPECT_EQ(t->endpoints[1], (config::HostPort{"::1", 2380}));
}

TEST(EtcdUrl, Errors) {
  struct Case {
    const char* url;
    const char* error;
  };
  for (const Case& c :
       {Case{"http://127.0.0.1:2379/p", "expected etcd://"},
        Case{"etcd://127.0.0.1:2379", "no key prefix"},
        Case{"etcd://127.0.0.1:2379/", "no key prefix"}, Case{"etcd:///p", "no etcd host"},
        Case{"etcd://127.0.0.1/p", "missing port"}, Case{"etcd://127.0.0.1:0/p", "port 0"},
        Case{"etcd://a:1,,b:2/p", "empty address"}}) {
    auto t = parse_etcd_url(c.url);
    ASSERT_FALSE(t) << c.url;
    EXPECT_NE(t.error().find(c.error), std::string::npos) << c.url << " -> " << t.error();
  }
}

}  // namespace
}  // namespace sluice::discovery
