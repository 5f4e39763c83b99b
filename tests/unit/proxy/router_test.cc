#include "proxy/router.h"

#include <gtest/gtest.h>

namespace sluice::proxy {
namespace {

config::Route route(std::string service, std::string method, std::string authority,
                    std::string cluster) {
  config::Route r = config::catch_all_route(std::move(cluster));
  r.match = {std::move(service), std::move(method), std::move(authority)};
  return r;
}

TEST(Router, FirstMatchWinsInOrder) {
  Router r({route("pkg.Svc", "Get", "", "getters"), route("pkg.Svc", "", "", "svc"),
            route("", "", "", "fallback")},
           {"fallback", "getters", "svc"});
  EXPECT_EQ(r.route("pkg.Svc", "Get", "a")->cluster, 1u);
  EXPECT_EQ(r.route("pkg.Svc", "Put", "a")->cluster, 2u);
  EXPECT_EQ(r.route("other.Svc", "Get", "a")->cluster, 0u);
}

TEST(Router, NoMatchIsNullopt) {
  Router r({route("pkg.Svc", "", "", "a")}, {"a"});
  EXPECT_EQ(r.route("pkg.Other", "X", ""), nullptr);
  EXPECT_EQ(r.route("pkg.Sv", "X", ""), nullptr);  // no prefix matching
}

TEST(Router, StarServiceMatchesAny) {
  Router r({route("*", "", "", "a")}, {"a"});
  EXPECT_EQ(r.route("anything.At.All", "M", "")->cluster, 0u);
}

TEST(Router, AuthorityMatchesWholeValueOrHost) {
  Router r({route("", "", "api.example", "a"), route("", "", "other:8080", "b")}, {"a", "b"});
  EXPECT_EQ(r.route("s", "m", "api.example")->cluster, 0u);
  EXPECT_EQ(r.route("s", "m", "api.example:443")->cluster, 0u);
  EXPECT_EQ(r.route("s", "m", "other:8080")->cluster, 1u);
  EXPECT_EQ(r.route("s", "m", "other:9090"), nullptr);
  EXPECT_EQ(r.route("s", "m", "api.example.evil"), nullptr);
}

TEST(Router, CarriesTheRouteTimeouts) {
  auto with_timeouts = route("pkg.Svc", "", "", "a");
  with_timeouts.timeout = config::Millis(250);
  with_timeouts.max_timeout = config::Millis(1000);
  Router r({with_timeouts}, {"a"});
  const auto* t = r.route("pkg.Svc", "M", "");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->timeout, config::Millis(250));
  EXPECT_EQ(t->max_timeout, config::Millis(1000));
}

TEST(Router, RouteToUnknownClusterIsSkipped) {
  Router r({route("", "", "", "missing"), route("", "", "", "b")}, {"b"});
  EXPECT_EQ(r.route("s", "m", "")->cluster, 0u);
}

}  // namespace
}  // namespace sluice::proxy
