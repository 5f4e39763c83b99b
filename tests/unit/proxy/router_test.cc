#include "proxy/router.h"

#include <gtest/gtest.h>

namespace sluice::proxy {
namespace {

config::Route route(std::string service, std::string method, std::string authority,
                    std::string cluster) {
  return {{std::move(service), std::move(method), std::move(authority)}, std::move(cluster)};
}

TEST(Router, FirstMatchWinsInOrder) {
  Router r({route("pkg.Svc", "Get", "", "getters"), route("pkg.Svc", "", "", "svc"),
            route("", "", "", "fallback")},
           {"fallback", "getters", "svc"});
  EXPECT_EQ(r.route("pkg.Svc", "Get", "a"), 1u);
  EXPECT_EQ(r.route("pkg.Svc", "Put", "a"), 2u);
  EXPECT_EQ(r.route("other.Svc", "Get", "a"), 0u);
}

TEST(Router, NoMatchIsNullopt) {
  Router r({route("pkg.Svc", "", "", "a")}, {"a"});
  EXPECT_FALSE(r.route("pkg.Other", "X", "").has_value());
  EXPECT_FALSE(r.route("pkg.Sv", "X", "").has_value());  // no prefix matching
}

TEST(Router, StarServiceMatchesAny) {
  Router r({route("*", "", "", "a")}, {"a"});
  EXPECT_EQ(r.route("anything.At.All", "M", ""), 0u);
}

TEST(Router, AuthorityMatchesWholeValueOrHost) {
  Router r({route("", "", "api.example", "a"), route("", "", "other:8080", "b")}, {"a", "b"});
  EXPECT_EQ(r.route("s", "m", "api.example"), 0u);
  EXPECT_EQ(r.route("s", "m", "api.example:443"), 0u);
  EXPECT_EQ(r.route("s", "m", "other:8080"), 1u);
  EXPECT_FALSE(r.route("s", "m", "other:9090").has_value());
  EXPECT_FALSE(r.route("s", "m", "api.example.evil").has_value());
}

TEST(Router, RouteToUnknownClusterIsSkipped) {
  Router r({route("", "", "", "missing"), route("", "", "", "b")}, {"b"});
  EXPECT_EQ(r.route("s", "m", ""), 0u);
}

}  // namespace
}  // namespace sluice::proxy
