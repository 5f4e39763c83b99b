#include <gtest/gtest.h>

#include "admin/router.h"

namespace sluice::admin {
namespace {

HttpRequest Request(std::string method, std::string target) {
  HttpRequest request;
  request.method = std::move(method);
  request.target = std::move(target);
  return request;
}

const std::string* FindHeader(const HttpResponse& response, std::string_view name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return &value;
  }
  return nullptr;
}

TEST(RouterTest, DispatchesOnExactPathAndMethod) {
  Router router;
  router.add("GET", "/healthz", [](const HttpRequest&) { return text_response(200, "ok"); });
  router.add("GET", "/metrics", [](const HttpRequest& request) {
    return text_response(200, "metrics " + request.query);
  });
  HttpRequest request = Request("GET", "/metrics");
  request.query = "x=1";
  EXPECT_EQ(router.dispatch(request).body, "metrics x=1\n");
  EXPECT_EQ(router.dispatch(Request("GET", "/healthz")).body, "ok\n");
  EXPECT_EQ(router.dispatch(Request("GET", "/healthz/")).status, 404);
}

TEST(RouterTest, UnknownPathIs404ListingKnownPaths) {
  Router router;
  router.add("GET", "/b", [](const HttpRequest&) { return HttpResponse{}; });
  router.add("GET", "/a", [](const HttpRequest&) { return HttpResponse{}; });
  HttpResponse response = router.dispatch(Request("GET", "/nope"));
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.body, "not found; known paths:\n  /a\n  /b\n");
}

TEST(RouterTest, WrongMethodIs405WithAllow) {
  Router router;
  router.add("GET", "/config", [](const HttpRequest&) { return HttpResponse{}; });
  router.add("POST", "/config", [](const HttpRequest&) { return HttpResponse{}; });
  HttpResponse response = router.dispatch(Request("DELETE", "/config"));
  EXPECT_EQ(response.status, 405);
  ASSERT_NE(FindHeader(response, "Allow"), nullptr);
  EXPECT_EQ(*FindHeader(response, "Allow"), "GET, POST");
}

TEST(RouterTest, LaterRegistrationReplaces) {
  Router router;
  router.add("GET", "/x", [](const HttpRequest&) { return text_response(200, "old"); });
  router.add("GET", "/x", [](const HttpRequest&) { return text_response(200, "new"); });
  EXPECT_EQ(router.dispatch(Request("GET", "/x")).body, "new\n");
}

}  // namespace
}  // namespace sluice::admin
