#include "core/service_config.h"

#include <gtest/gtest.h>

namespace sluice::core {
namespace {

MethodConfig named(std::vector<MethodName> names, int max_attempts) {
  MethodConfig mc;
  mc.names = std::move(names);
  mc.retry.emplace().max_attempts = max_attempts;
  return mc;
}

int attempts(const MethodConfig* mc) { return mc == nullptr ? 0 : mc->retry->max_attempts; }

TEST(MethodConfigIndex, ExactMethodThenServiceThenDefault) {
  ServiceConfig config;
  config.method_configs = {named({{"", ""}}, 2), named({{"pkg.Svc", ""}}, 3),
                           named({{"pkg.Svc", "Get"}, {"other.Svc", "Put"}}, 4)};
  const MethodConfigIndex index(config);
  EXPECT_EQ(attempts(index.find("pkg.Svc", "Get")), 4);
  EXPECT_EQ(attempts(index.find("pkg.Svc", "List")), 3);
  EXPECT_EQ(attempts(index.find("other.Svc", "Put")), 4);
  EXPECT_EQ(attempts(index.find("other.Svc", "Get")), 2) << "no service entry: the default";
  EXPECT_EQ(attempts(index.find("unknown", "X")), 2);
}

TEST(MethodConfigIndex, NoDefaultMeansNoConfig) {
  ServiceConfig config;
  config.method_configs = {named({{"pkg.Svc", "Get"}}, 4)};
  const MethodConfigIndex index(config);
  EXPECT_EQ(index.find("pkg.Svc", "List"), nullptr);
  EXPECT_EQ(index.find("pkg", "Svc/Get"), nullptr) << "no confusion across the separator";
  EXPECT_NE(index.find("pkg.Svc", "Get"), nullptr);
  EXPECT_EQ(MethodConfigIndex(ServiceConfig{}).find("a", "b"), nullptr);
}

TEST(MethodConfigIndex, NamesAreCaseSensitive) {
  ServiceConfig config;
  config.method_configs = {named({{"pkg.Svc", "Get"}}, 4)};
  const MethodConfigIndex index(config);
  EXPECT_EQ(index.find("pkg.svc", "Get"), nullptr);
  EXPECT_EQ(index.find("pkg.Svc", "get"), nullptr);
}

TEST(DuplicateMethodName, FindsANameGivenTwiceAcrossConfigs) {
  ServiceConfig config;
  config.method_configs = {named({{"pkg.Svc", "Get"}, {"pkg.Svc", ""}}, 2),
                           named({{"pkg.Svc", "Put"}}, 3)};
  EXPECT_EQ(duplicate_method_name(config), std::nullopt);
  config.method_configs.push_back(named({{"x", ""}, {"pkg.Svc", ""}}, 4));
  EXPECT_EQ(duplicate_method_name(config), "pkg.Svc/");
  config.method_configs = {named({{"", ""}}, 2), named({{"", ""}}, 3)};
  EXPECT_EQ(duplicate_method_name(config), "/");
}

}  // namespace
}  // namespace sluice::core
