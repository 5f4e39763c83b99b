#include "discovery/endpoints_file.h"

#include <gtest/gtest.h>

namespace sluice::discovery {
namespace {

TEST(EndpointsFile, YamlListOfAddressesAndMappings) {
  auto r = parse_endpoints_file(
      "- 127.0.0.1:50051\n"
      "- {address: \"[::1]:50052\", weight: 3, zone: eu-1, metadata: {version: v2}}\n");
  ASSERT_TRUE(r) << r.error();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].address, (config::HostPort{"127.0.0.1", 50051}));
  EXPECT_EQ((*r)[0].weight, 1u);
  EXPECT_EQ((*r)[1].address, (config::HostPort{"::1", 50052}));
  EXPECT_EQ((*r)[1].weight, 3u);
  EXPECT_EQ((*r)[1].zone, "eu-1");
  EXPECT_EQ((*r)[1].metadata.at("version"), "v2");
}

TEST(EndpointsFile, JsonWorksToo) {
  auto r = parse_endpoints_file(R"(["10.0.0.1:80", {"address": "10.0.0.2:80", "weight": 2}])");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[1].weight, 2u);
}

TEST(EndpointsFile, EmptyListIsAValidEmptySet) {
  auto r = parse_endpoints_file("[]");
  ASSERT_TRUE(r) << r.error();
  EXPECT_TRUE(r->empty());
}

TEST(EndpointsFile, AnyBadEntryRejectsTheWholeFile) {
  struct Case {
    const char* text;
    const char* error;
  };
  for (const Case& c :
       {Case{"- 127.0.0.1:1\n- nonsense\n", "entry 1 (line 2)"}, Case{"- 127.0.0.1:0\n", "port 0"},
        Case{"- {address: 127.0.0.1:1, weight: 0}\n", "weight"},
        Case{"- {adress: 127.0.0.1:1}\n", "unknown key \"adress\""},
        Case{"- {weight: 2}\n", "missing \"address\""},
        Case{"- 127.0.0.1:1\n- 127.0.0.1:1\n", "duplicate address"},
        Case{"address: 127.0.0.1:1\n", "expected a list"},
        Case{"- [127.0.0.1:1\n", "line"},  // half-written
        Case{"", "expected a list"}}) {
    auto r = parse_endpoints_file(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_NE(r.error().find(c.error), std::string::npos) << c.text << " -> " << r.error();
  }
}

}  // namespace
}  // namespace sluice::discovery
