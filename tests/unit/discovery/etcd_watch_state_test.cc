// The etcd watch's bookkeeping: Range resets, events apply once, resume and compaction.
#include "discovery/etcd_watch_state.h"

#include <gtest/gtest.h>

#include "discovery/endpoints_file.h"

namespace sluice::discovery {
namespace {

using Type = EtcdEvent::Type;

EtcdEvent put(std::string key, std::string value, int64_t revision) {
  return {Type::kPut, {std::move(key), std::move(value), revision}};
}
EtcdEvent del(std::string key, int64_t revision) {
  return {Type::kDelete, {std::move(key), "", revision}};
}
std::vector<std::string> addresses(const EtcdWatchState& s) {
  std::vector<std::string> out;
  for (const auto& e : s.endpoints()) out.push_back(e.address.to_string());
  return out;
}
using Strings = std::vector<std::string>;

TEST(EtcdPrefixRangeEnd, IncrementsTheLastByte) {
  EXPECT_EQ(prefix_range_end("/sluice/backends/"), "/sluice/backends0");
  EXPECT_EQ(prefix_range_end("a"), "b");
  EXPECT_EQ(prefix_range_end(std::string("a\xff", 2)), "b");
  EXPECT_EQ(prefix_range_end(std::string("\xff\xff", 2)), std::string(1, '\0'));
  EXPECT_EQ(prefix_range_end(""), std::string(1, '\0'));
}

TEST(EtcdWatchState, NeedsARangeFirstAndIgnoresEventsUntilThen) {
  EtcdWatchState s;
  EXPECT_TRUE(s.needs_range());
  auto u = s.apply({put("/p/a", "10.0.0.1:80", 5)});
  EXPECT_FALSE(u.changed);
  EXPECT_TRUE(s.endpoints().empty());
}

TEST(EtcdWatchState, RangeResetsAndSetsTheResumeRevision) {
  EtcdWatchState s;
  auto u = s.reset({{"/p/b", "10.0.0.2:80", 3}, {"/p/a", "10.0.0.1:80", 7}}, 9);
  EXPECT_TRUE(u.changed);
  EXPECT_TRUE(u.errors.empty());
  EXPECT_FALSE(s.needs_range());
  EXPECT_EQ(s.revision(), 9);
  EXPECT_EQ(s.resume_revision(), 10);
  EXPECT_EQ(addresses(s), (Strings{"10.0.0.1:80", "10.0.0.2:80"}));
  // The same range again: nothing changed.
  EXPECT_FALSE(s.reset({{"/p/a", "10.0.0.1:80", 7}, {"/p/b", "10.0.0.2:80", 3}}, 11).changed);
  EXPECT_EQ(s.resume_revision(), 12);
  // A range without a key drops it (the reset replaces, it does not merge).
  EXPECT_TRUE(s.reset({{"/p/b", "10.0.0.2:80", 3}}, 12).changed);
  EXPECT_EQ(addresses(s), (Strings{"10.0.0.2:80"}));
}

TEST(EtcdWatchState, PutsAndDeletesApplyInOrder) {
  EtcdWatchState s;
  s.reset({{"/p/a", "10.0.0.1:80", 2}}, 2);
  auto u = s.apply({put("/p/b", "10.0.0.2:80", 3), put("/p/c", "10.0.0.3:80", 4)});
  EXPECT_TRUE(u.changed);
  EXPECT_EQ(addresses(s), (Strings{"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"}));
  EXPECT_EQ(s.resume_revision(), 5);
  u = s.apply({del("/p/a", 5), put("/p/b", R"({"address":"10.0.0.2:80","weight":3})", 6)});
  EXPECT_TRUE(u.changed);
  EXPECT_EQ(addresses(s), (Strings{"10.0.0.2:80", "10.0.0.3:80"}));
  EXPECT_EQ(s.endpoints()[0].weight, 3u);
  // Deleting a key that is not there, or putting the same value again, changes nothing.
  EXPECT_FALSE(s.apply({del("/p/zz", 7)}).changed);
  EXPECT_FALSE(s.apply({put("/p/c", "10.0.0.3:80", 8)}).changed);
  EXPECT_EQ(s.resume_revision(), 9);
}

TEST(EtcdWatchState, ReplayedEventsAreNotAppliedTwice) {
  EtcdWatchState s;
  s.reset({}, 10);
  s.apply({put("/p/a", "10.0.0.1:80", 11)});
  s.apply({del("/p/a", 12)});
  // A server that resends from an older revision (or a duplicated response): ignored, so the
  // deleted key does not come back.
  auto u = s.apply({put("/p/a", "10.0.0.1:80", 11)});
  EXPECT_FALSE(u.changed);
  EXPECT_TRUE(s.endpoints().empty());
  EXPECT_FALSE(s.apply({put("/p/x", "10.0.0.9:80", 10)}).changed);  // at the range's revision
  EXPECT_EQ(s.resume_revision(), 13);
}

TEST(EtcdWatchState, EventsSharingARevisionAllApply) {
  // One lease expiry (or transaction) deletes several keys at one revision.
  EtcdWatchState s;
  s.reset({{"/p/a", "10.0.0.1:80", 2}, {"/p/b", "10.0.0.2:80", 2}, {"/p/c", "10.0.0.3:80", 3}}, 3);
  auto u = s.apply({del("/p/a", 4), del("/p/b", 4)});
  EXPECT_TRUE(u.changed);
  EXPECT_EQ(addresses(s), (Strings{"10.0.0.3:80"}));
  EXPECT_EQ(s.resume_revision(), 5);
}

TEST(EtcdWatchState, ResumeAfterAReconnectContinuesWhereItStopped) {
  EtcdWatchState s;
  s.reset({{"/p/a", "10.0.0.1:80", 4}}, 4);
  s.apply({put("/p/b", "10.0.0.2:80", 5)});
  // The stream broke; the new watch starts at resume_revision() and the server replays from
  // there. Its first response may overlap what arrived before the break.
  ASSERT_EQ(s.resume_revision(), 6);
  auto u = s.apply({put("/p/b", "10.0.0.2:80", 5), put("/p/c", "10.0.0.3:80", 6)});
  EXPECT_TRUE(u.changed);
  EXPECT_EQ(addresses(s), (Strings{"10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"}));
  EXPECT_EQ(s.resume_revision(), 7);
}

TEST(EtcdWatchState, CompactionAsksForANewRange) {
  EtcdWatchState s;
  s.reset({{"/p/a", "10.0.0.1:80", 4}}, 4);
  s.compacted();
  EXPECT_TRUE(s.needs_range());
  EXPECT_FALSE(s.apply({put("/p/b", "10.0.0.2:80", 50)}).changed);  // nothing until the range
  auto u = s.reset({{"/p/c", "10.0.0.3:80", 40}}, 60);
  EXPECT_TRUE(u.changed);
  EXPECT_FALSE(s.needs_range());
  EXPECT_EQ(addresses(s), (Strings{"10.0.0.3:80"}));
  EXPECT_EQ(s.resume_revision(), 61);
}

TEST(EtcdWatchState, ABadValueIsReportedAndOnlyThatKeyIgnored) {
  EtcdWatchState s;
  auto u = s.reset({{"/p/a", "10.0.0.1:80", 2}, {"/p/bad", "not an address", 3}}, 3);
  EXPECT_TRUE(u.changed);
  ASSERT_EQ(u.errors.size(), 1u);
  EXPECT_NE(u.errors[0].find("key /p/bad: "), std::string::npos) << u.errors[0];
  EXPECT_EQ(addresses(s), (Strings{"10.0.0.1:80"}));
  EXPECT_EQ(s.bad_keys().count("/p/bad"), 1u);
  // A good key turning bad stops being an endpoint (as a fresh range would see it).
  u = s.apply({put("/p/a", R"({"address":"10.0.0.1:80","weight":0})", 4)});
  EXPECT_TRUE(u.changed);
  ASSERT_EQ(u.errors.size(), 1u);
  EXPECT_NE(u.errors[0].find("weight"), std::string::npos) << u.errors[0];
  EXPECT_TRUE(s.endpoints().empty());
  // Fixed, or deleted: the error goes.
  u = s.apply({put("/p/a", "10.0.0.1:80", 5), del("/p/bad", 5)});
  EXPECT_TRUE(u.changed);
  EXPECT_TRUE(u.errors.empty());
  EXPECT_TRUE(s.bad_keys().empty());
  EXPECT_EQ(addresses(s), (Strings{"10.0.0.1:80"}));
}

TEST(EtcdWatchState, TwoKeysWithOneAddressGiveOneEndpoint) {
  EtcdWatchState s;
  s.reset({{"/p/old-id", "10.0.0.1:80", 2}, {"/p/new-id", "10.0.0.1:80", 3}}, 3);
  EXPECT_EQ(addresses(s), (Strings{"10.0.0.1:80"}));
  EXPECT_FALSE(s.apply({del("/p/old-id", 4)}).changed);
  EXPECT_EQ(addresses(s), (Strings{"10.0.0.1:80"}));
}

TEST(EtcdWatchState, EndpointsAreSortedByAddress) {
  EtcdWatchState s;
  s.reset({{"/p/1", "10.0.0.9:80", 1}, {"/p/2", "10.0.0.1:90", 1}, {"/p/3", "10.0.0.1:80", 1}}, 1);
  EXPECT_EQ(addresses(s), (Strings{"10.0.0.1:80", "10.0.0.1:90", "10.0.0.9:80"}));
}

TEST(EtcdValue, AddressOrJson) {
  auto plain = parse_endpoint(" 10.0.0.1:50051\n");
  ASSERT_TRUE(plain) << plain.error();
  EXPECT_EQ(plain->address, (config::HostPort{"10.0.0.1", 50051}));
  auto v6 = parse_endpoint("[::1]:50051");
  ASSERT_TRUE(v6) << v6.error();
  EXPECT_EQ(v6->address, (config::HostPort{"::1", 50051}));
  auto json = parse_endpoint(
      R"({"address":"10.0.0.2:80","weight":2,"zone":"eu-1","metadata":{"version":"v2"}})");
  ASSERT_TRUE(json) << json.error();
  EXPECT_EQ(json->weight, 2u);
  EXPECT_EQ(json->zone, "eu-1");
  EXPECT_EQ(json->metadata.at("version"), "v2");
}

TEST(EtcdValue, BadValuesSayWhy) {
  struct Case {
    const char* text;
    const char* error;
  };
  for (const Case& c : {Case{"", "empty address"}, Case{"10.0.0.1", "missing port"},
                        Case{"10.0.0.1:0", "port 0"}, Case{"{\"weight\":2}", "missing \"address\""},
                        Case{"{\"address\":\"10.0.0.1:80\",\"color\":1}", "unknown key"},
                        Case{"{\"address\":", "value: "}}) {
    auto r = parse_endpoint(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_NE(r.error().find(c.error), std::string::npos) << c.text << " -> " << r.error();
  }
}

}  // namespace
}  // namespace sluice::discovery
