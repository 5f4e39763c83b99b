#include "discovery/dns_answer.h"

#include <ares.h>
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <vector>

namespace sluice::discovery {
namespace {

using Kind = DnsAnswer::Kind;

struct Record {
  std::string address;  // IPv4 for A, IPv6 for AAAA
  uint32_t ttl;
};

// A DNS response for `name` with the given header flags and answer records of one type.
std::vector<unsigned char> response(const std::string& name, uint16_t type, bool authoritative,
                                    int rcode, const std::vector<Record>& records) {
  std::vector<unsigned char> p;
  auto u16 = [&](uint16_t v) {
    p.push_back(static_cast<unsigned char>(v >> 8));
    p.push_back(static_cast<unsigned char>(v));
  };
  u16(0x1234);                                                                // id
  u16(static_cast<uint16_t>(0x8180 | (authoritative ? 0x0400 : 0) | rcode));  // QR RD RA
  u16(1);                                                                     // questions
  u16(static_cast<uint16_t>(records.size()));                                 // answers
  u16(0);
  u16(0);
  size_t start = 0;
  for (size_t dot = name.find('.'); start <= name.size(); dot = name.find('.', start)) {
    if (dot == std::string::npos) dot = name.size();
    p.push_back(static_cast<unsigned char>(dot - start));
    p.insert(p.end(), name.begin() + static_cast<long>(start),
             name.begin() + static_cast<long>(dot));
    start = dot + 1;
  }
  p.push_back(0);
  u16(type);
  u16(1);  // IN
  for (const auto& r : records) {
    u16(0xc00c);  // the name, as a pointer to the question
    u16(type);
    u16(1);
    u16(static_cast<uint16_t>(r.ttl >> 16));
    u16(static_cast<uint16_t>(r.ttl));
    unsigned char bytes[16];
    const int family = type == 1 ? AF_INET : AF_INET6;
    EXPECT_EQ(inet_pton(family, r.address.c_str(), bytes), 1) << r.address;
    const size_t n = family == AF_INET ? 4 : 16;
    u16(static_cast<uint16_t>(n));
    p.insert(p.end(), bytes, bytes + n);
  }
  return p;
}

DnsAnswer read(int family, int status, const std::vector<unsigned char>& p) {
  return read_dns_answer(family, status, p.data(), static_cast<int>(p.size()));
}

TEST(DnsAnswer, ARecordsWithTheirSmallestTtl) {
  auto p = response("svc.test", 1, true, 0, {{"10.0.0.2", 30}, {"10.0.0.1", 5}});
  auto a = read(AF_INET, ARES_SUCCESS, p);
  ASSERT_EQ(a.kind, Kind::kRecords) << a.detail;
  ASSERT_EQ(a.addresses.size(), 2u);
  EXPECT_EQ(a.addresses[0].text, "10.0.0.2");
  EXPECT_EQ(a.min_ttl_s, 5);
  EXPECT_TRUE(a.authoritative);
}

TEST(DnsAnswer, AaaaRecords) {
  auto p = response("svc.test", 28, false, 0, {{"fd00::2", 7}});
  auto a = read(AF_INET6, ARES_SUCCESS, p);
  ASSERT_EQ(a.kind, Kind::kRecords) << a.detail;
  ASSERT_EQ(a.addresses.size(), 1u);
  EXPECT_EQ(a.addresses[0].text, "fd00::2");
  EXPECT_EQ(a.min_ttl_s, 7);
  EXPECT_FALSE(a.authoritative);
}

TEST(DnsAnswer, NxdomainAndNodataAreNoRecordsWithTheirAuthority) {
  auto nx = read(AF_INET, ARES_ENOTFOUND, response("svc.test", 1, true, 3, {}));
  EXPECT_EQ(nx.kind, Kind::kNoRecords);
  EXPECT_TRUE(nx.authoritative);
  auto nodata = read(AF_INET6, ARES_ENODATA, response("svc.test", 28, false, 0, {}));
  EXPECT_EQ(nodata.kind, Kind::kNoRecords);
  EXPECT_FALSE(nodata.authoritative);
}

TEST(DnsAnswer, ServerTroubleIsAFailure) {
  for (int status : {ARES_ETIMEOUT, ARES_ESERVFAIL, ARES_EREFUSED, ARES_ECONNREFUSED}) {
    auto a = read_dns_answer(AF_INET, status, nullptr, 0);
    EXPECT_EQ(a.kind, Kind::kFailed) << status;
    EXPECT_FALSE(a.detail.empty());
  }
  std::vector<unsigned char> truncated = response("svc.test", 1, true, 0, {{"10.0.0.1", 5}});
  truncated.resize(truncated.size() - 3);
  EXPECT_EQ(read(AF_INET, ARES_SUCCESS, truncated).kind, Kind::kFailed);
}

DnsAnswer records(std::vector<std::string> texts, int ttl, int family = AF_INET) {
  DnsAnswer a;
  a.kind = Kind::kRecords;
  a.min_ttl_s = ttl;
  for (auto& t : texts) {
    DnsAddress address;
    address.family = family;
    inet_pton(family, t.c_str(), address.bytes.data());
    address.text = t;
    a.addresses.push_back(address);
  }
  return a;
}

DnsAnswer none(bool authoritative) {
  DnsAnswer a;
  a.kind = Kind::kNoRecords;
  a.authoritative = authoritative;
  a.detail = "NXDOMAIN";
  return a;
}

DnsAnswer failure() {
  DnsAnswer a;
  a.kind = Kind::kFailed;
  a.detail = "Timeout while contacting DNS servers";
  return a;
}

TEST(DnsAnswer, UnionSortedNumericallyIpv4FirstOnThePort) {
  auto r =
      combine_dns_answers("svc.test", 50051, records({"10.0.0.10", "10.0.0.9", "10.0.0.10"}, 30),
                          records({"fd00::1"}, 5, AF_INET6));
  ASSERT_TRUE(r) << r.error();
  ASSERT_EQ(r->endpoints.size(), 3u);
  EXPECT_EQ(r->endpoints[0].address, (config::HostPort{"10.0.0.9", 50051}));
  EXPECT_EQ(r->endpoints[1].address, (config::HostPort{"10.0.0.10", 50051}));
  EXPECT_EQ(r->endpoints[2].address, (config::HostPort{"fd00::1", 50051}));
  EXPECT_EQ(r->min_ttl, std::chrono::seconds(5));
}

TEST(DnsAnswer, IPv4OnlyNameThroughACacheIsFine) {
  // The usual case: A records, and a non-authoritative NODATA for AAAA.
  auto r = combine_dns_answers("svc.test", 80, records({"10.0.0.1"}, 3), none(false));
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->endpoints.size(), 1u);
  EXPECT_EQ(r->min_ttl, std::chrono::seconds(3));
}

TEST(DnsAnswer, AuthoritativeNoRecordsIsAnEmptySet) {
  auto r = combine_dns_answers("svc.test", 80, none(true), none(true));
  ASSERT_TRUE(r) << r.error();
  EXPECT_TRUE(r->endpoints.empty());
  EXPECT_EQ(r->min_ttl, std::chrono::seconds(0));
}

TEST(DnsAnswer, NonAuthoritativeNoRecordsNeverWipesTheSet) {
  EXPECT_FALSE(combine_dns_answers("svc.test", 80, none(false), none(false)));
  EXPECT_FALSE(combine_dns_answers("svc.test", 80, none(true), none(false)));
}

TEST(DnsAnswer, AnyFailureIsAnErrorEvenWithRecordsFromTheOtherFamily) {
  auto r = combine_dns_answers("svc.test", 80, records({"10.0.0.1"}, 3), failure());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().find("AAAA: Timeout"), std::string::npos) << r.error();
  auto both = combine_dns_answers("svc.test", 80, failure(), failure());
  ASSERT_FALSE(both);
  EXPECT_NE(both.error().find("A: Timeout"), std::string::npos) << both.error();
  EXPECT_NE(both.error().find("svc.test"), std::string::npos) << both.error();
}

}  // namespace
}  // namespace sluice::discovery
