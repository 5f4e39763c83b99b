#include "discovery/dns_answer.h"

#include <ares.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <tuple>

namespace sluice::discovery {
namespace {

constexpr int kHeaderSize = 12;

bool authoritative(const unsigned char* abuf, int alen) {
  return abuf != nullptr && alen >= kHeaderSize && (abuf[2] & 0x04) != 0;
}

// Answer records announced in the header: enough room for every address in it.
int answer_count(const unsigned char* abuf, int alen) {
  if (abuf == nullptr || alen < kHeaderSize) return 0;
  return (abuf[6] << 8) | abuf[7];
}

DnsAddress address_of(int family, const void* bytes) {
  DnsAddress a;
  a.family = family;
  std::memcpy(a.bytes.data(), bytes, family == AF_INET ? 4 : 16);
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, bytes, text, sizeof text);
  a.text = text;
  return a;
}

DnsAnswer failed(std::string why) {
  DnsAnswer answer;
  answer.kind = DnsAnswer::Kind::kFailed;
  answer.detail = std::move(why);
  return answer;
}

DnsAnswer no_records(const char* why, const unsigned char* abuf, int alen) {
  DnsAnswer answer;
  answer.kind = DnsAnswer::Kind::kNoRecords;
  answer.authoritative = authoritative(abuf, alen);
  answer.detail = why;
  return answer;
}

DnsAnswer parse_records(int family, const unsigned char* abuf, int alen) {
  const int room = std::max(1, answer_count(abuf, alen));
  int n = room;
  int rc = ARES_SUCCESS;
  DnsAnswer answer;
  if (family == AF_INET) {
    std::vector<ares_addrttl> ttls(static_cast<size_t>(room));
    rc = ares_parse_a_reply(abuf, alen, nullptr, ttls.data(), &n);
    for (int i = 0; rc == ARES_SUCCESS && i < n; ++i) {
      answer.addresses.push_back(address_of(AF_INET, &ttls[i].ipaddr));
      answer.min_ttl_s = i == 0 ? ttls[i].ttl : std::min(answer.min_ttl_s, ttls[i].ttl);
    }
  } else {
    std::vector<ares_addr6ttl> ttls(static_cast<size_t>(room));
    rc = ares_parse_aaaa_reply(abuf, alen, nullptr, ttls.data(), &n);
    for (int i = 0; rc == ARES_SUCCESS && i < n; ++i) {
      answer.addresses.push_back(address_of(AF_INET6, &ttls[i].ip6addr));
      answer.min_ttl_s = i == 0 ? ttls[i].ttl : std::min(answer.min_ttl_s, ttls[i].ttl);
    }
  }
  // Answers holding only a CNAME (or other types) have no address: the same as NODATA.
  if (rc == ARES_ENODATA || (rc == ARES_SUCCESS && answer.addresses.empty())) {
    return no_records("no records", abuf, alen);
  }
  if (rc != ARES_SUCCESS) return failed(std::string("bad answer: ") + ares_strerror(rc));
  answer.kind = DnsAnswer::Kind::kRecords;
  answer.authoritative = authoritative(abuf, alen);
  answer.min_ttl_s = std::max(answer.min_ttl_s, 0);
  return answer;
}

}  // namespace

bool DnsAddress::operator<(const DnsAddress& other) const {
  return std::tie(family, bytes) < std::tie(other.family, other.bytes);
}

DnsAnswer read_dns_answer(int family, int status, const unsigned char* abuf, int alen) {
  switch (status) {
    case ARES_SUCCESS:
      return parse_records(family, abuf, alen);
    case ARES_ENOTFOUND:
      return no_records("NXDOMAIN", abuf, alen);
    case ARES_ENODATA:
      return no_records("no records", abuf, alen);
    default:
      return failed(ares_strerror(status));
  }
}

Expected<DnsResolution, std::string> combine_dns_answers(const std::string& name, uint16_t port,
                                                         const DnsAnswer& a,
                                                         const DnsAnswer& aaaa) {
  using Kind = DnsAnswer::Kind;
  if (a.kind == Kind::kFailed || aaaa.kind == Kind::kFailed) {
    std::string why;
    if (a.kind == Kind::kFailed) why = "A: " + a.detail;
    if (aaaa.kind == Kind::kFailed) why += (why.empty() ? "" : "; ") + ("AAAA: " + aaaa.detail);
    return Unexpected(name + ": " + why);
  }
  std::vector<DnsAddress> all = a.addresses;
  all.insert(all.end(), aaaa.addresses.begin(), aaaa.addresses.end());
  if (all.empty() && !(a.authoritative && aaaa.authoritative)) {
    return Unexpected(name + ": no A or AAAA records (A: " + a.detail + ", AAAA: " + aaaa.detail +
                      ") in an answer that is not authoritative");
  }
  std::sort(all.begin(), all.end());
  all.erase(std::unique(all.begin(), all.end()), all.end());

  DnsResolution out{{}, std::chrono::seconds(0)};
  bool first = true;
  for (const DnsAnswer* answer : {&a, &aaaa}) {
    if (answer->kind != Kind::kRecords) continue;
    const auto ttl = std::chrono::seconds(answer->min_ttl_s);
    out.min_ttl = first ? ttl : std::min(out.min_ttl, ttl);
    first = false;
  }
  for (const auto& address : all) {
    config::Endpoint e;
    e.address = config::HostPort{address.text, port};
    out.endpoints.push_back(std::move(e));
  }
  return out;
}

}  // namespace sluice::discovery
