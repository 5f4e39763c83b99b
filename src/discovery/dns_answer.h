// What one DNS answer (A or AAAA) means for discovery, and how the two make an endpoint set.
// Pure (no sockets), so the rules below are unit tested.
//
// The rule that matters: a DNS outage must never wipe the set. Timeouts, SERVFAIL, REFUSED,
// unreachable servers and unparsable answers are errors (the last good set keeps serving).
// An answer without records (NXDOMAIN, or NOERROR with none) empties the set only when both
// answers came from a server authoritative for the name (the AA bit, as CoreDNS sets it for a
// headless service with no ready pods); a cache or forwarder answering "no such name" may be
// wrong or stale, so that is an error too.
#pragma once

#include <array>
#include <chrono>
#include <string>
#include <vector>

#include "base/expected.h"
#include "discovery/resolver.h"

namespace sluice::discovery {

struct DnsAddress {
  int family = 0;                         // AF_INET or AF_INET6
  std::array<unsigned char, 16> bytes{};  // network order; IPv4 uses the first 4
  std::string text;                       // "10.0.0.1", "fd00::1"
  bool operator<(const DnsAddress& other) const;
  bool operator==(const DnsAddress& other) const = default;
};

struct DnsAnswer {
  enum class Kind { kRecords, kNoRecords, kFailed };
  Kind kind = Kind::kFailed;
  std::vector<DnsAddress> addresses;  // kRecords
  int min_ttl_s = 0;                  // kRecords: the smallest TTL (CNAMEs on the way included)
  bool authoritative = false;         // the AA bit of the answer
  std::string detail;                 // kFailed: why; kNoRecords: "NXDOMAIN" or "no records"
};

// One c-ares query result for `family` (AF_INET: an A query, AF_INET6: AAAA). `status` is the
// ares status given to the query callback, `abuf`/`alen` the answer (may be null).
DnsAnswer read_dns_answer(int family, int status, const unsigned char* abuf, int alen);

struct DnsResolution {
  EndpointList endpoints;        // sorted (IPv4 before IPv6, numerically), no duplicates
  std::chrono::seconds min_ttl;  // 0 for an empty set: ask again at min_refresh
};

// The endpoint set from the A and the AAAA answer for `name`, every address on `port`; or why
// there is none (which must not replace the last good set).
Expected<DnsResolution, std::string> combine_dns_answers(const std::string& name, uint16_t port,
                                                         const DnsAnswer& a, const DnsAnswer& aaaa);

}  // namespace sluice::discovery
