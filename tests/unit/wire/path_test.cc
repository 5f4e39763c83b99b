#include "http2/grpc/path.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice::wire {
namespace {

TEST(ParseMethodPath, PackageQualified) {
  const auto parsed = parse_method_path("/helloworld.Greeter/SayHello");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->service, "helloworld.Greeter");
  EXPECT_EQ(parsed->method, "SayHello");
}

TEST(ParseMethodPath, UnqualifiedAndShortest) {
  auto parsed = parse_method_path("/Svc/M");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->service, "Svc");
  EXPECT_EQ(parsed->method, "M");
  parsed = parse_method_path("/s/m");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->service, "s");
}

TEST(ParseMethodPath, ViewsPointIntoTheInput) {
  const std::string path = "/grpc.health.v1.Health/Watch";
  const auto parsed = parse_method_path(path);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->service.data(), path.data() + 1);
  EXPECT_EQ(parsed->method.data() + parsed->method.size(), path.data() + path.size());
}

TEST(ParseMethodPath, RejectsMalformed) {
  for (const char* bad : {
           "",
           "/",
           "//",
           "///",
           "/Svc",
           "/Svc/",
           "//Method",
           "Svc/Method",
           "pkg.Svc/Method",
           "/pkg.Svc/Method/",
           "/pkg.Svc/Method/Extra",
           "/pkg.Svc//Method",
           "//pkg.Svc/Method",
           "/pkg.Svc/Method?x=1",
           "/pkg.Svc/Method#frag",
           "/pkg.Svc/Meth od",
           "/pkg Svc/Method",
           "/pkg.Svc/Method\t",
           "/pkg.Svc/Method\r\n",
           "/pkg.Svc/\x7fMethod",
           "/pkg.Svc/M\xc3\xa9thod",
           "*",
       }) {
    EXPECT_FALSE(parse_method_path(bad).has_value()) << "'" << bad << "'";
  }
}

TEST(ParseMethodPath, RejectsEmbeddedNul) {
  EXPECT_FALSE(parse_method_path(std::string("/Svc/M\0x", 8)).has_value());
}

}  // namespace
}  // namespace sluice::wire
