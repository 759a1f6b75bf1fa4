#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/message.hpp"

namespace emporium::limit {

// An IPv4 or IPv6 address; an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is
// its IPv4 address.
struct Address {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // IPv4 in the first 4
  std::string text() const;
  bool operator==(const Address&) const = default;
};

std::optional<Address> parse_address(std::string_view text);

// A block of addresses: "10.0.0.0/16", "fd00::/8", or one address.
struct Cidr {
  Address base;
  int prefix = 0;
  bool contains(const Address& a) const noexcept;
};

std::optional<Cidr> parse_cidr(std::string_view text);

// Parses a comma-separated list of CIDRs. Throws config::ConfigError naming
// `key` and the entry that does not parse.
std::vector<Cidr> parse_cidrs(std::string_view text, std::string_view key);

// The client's address: the peer's (`remote` is "ip:port"), unless the peer
// is one of `trusted` proxies; then X-Forwarded-For is read from the right
// and the first address that is not a trusted proxy is the client's (the
// left-most when all are trusted; the last one trusted when an entry is not
// an address). Nullopt when `remote` is not an address (an in-process call).
std::optional<Address> client_address(std::string_view remote, const http::Headers& headers,
                                      const std::vector<Cidr>& trusted);

}  // namespace emporium::limit
