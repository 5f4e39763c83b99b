#include <gtest/gtest.h>

#include "config/config.h"

namespace sluice::config {
namespace {

TEST(QuickConfig, BuildsOneListenerOneCatchAllRouteAndClusterDefault) {
  auto config = quick_config("127.0.0.1:0", {"127.0.0.1:50051", "[::1]:50052"});
  ASSERT_TRUE(config) << config.error().to_string();
  EXPECT_EQ(config->source, "<flags>");
  ASSERT_EQ(config->listeners.size(), 1u);
  EXPECT_EQ(config->listeners[0].name, "main");
  EXPECT_EQ(config->listeners[0].address, (HostPort{"127.0.0.1", 0}));
  ASSERT_EQ(config->routes.size(), 1u);
  EXPECT_EQ(config->routes[0].cluster, "default");
  EXPECT_EQ(config->routes[0].match.service, "");
  EXPECT_EQ(config->routes[0].match.method, "");
  ASSERT_EQ(config->clusters.size(), 1u);
  const Cluster* cluster = config->find_cluster("default");
  ASSERT_NE(cluster, nullptr);
  EXPECT_EQ(cluster->policy.kind, core::PolicyKind::kRoundRobin);
  ASSERT_EQ(cluster->endpoints.size(), 2u);
  EXPECT_EQ(cluster->endpoints[0].address, (HostPort{"127.0.0.1", 50051}));
  EXPECT_EQ(cluster->endpoints[1].address, (HostPort{"::1", 50052}));
}

TEST(QuickConfig, BadListenNamesTheFlag) {
  auto config = quick_config("nope", {"127.0.0.1:50051"});
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().field, "--listen");
  EXPECT_EQ(config.error().file, "<flags>");
  EXPECT_EQ(config.error().line, 0);
  EXPECT_EQ(config.error().to_string().rfind("<flags>: --listen: ", 0), 0u)
      << config.error().to_string();
}

TEST(QuickConfig, BadUpstreamNamesItsIndex) {
  auto config = quick_config("127.0.0.1:8080", {"127.0.0.1:50051", "127.0.0.1:99999"});
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().field, "--upstream[1]");
}

TEST(QuickConfig, UpstreamPortZeroIsAnError) {
  auto config = quick_config("127.0.0.1:8080", {"127.0.0.1:0"});
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().field, "--upstream[0]");
}

TEST(QuickConfig, DuplicateUpstreamIsAnError) {
  auto config = quick_config("127.0.0.1:8080", {"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:1"});
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().field, "--upstream[2]");
}

TEST(QuickConfig, NoUpstreamIsAnError) {
  auto config = quick_config("127.0.0.1:8080", {});
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().field, "--upstream");
}

}  // namespace
}  // namespace sluice::config
