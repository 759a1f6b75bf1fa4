#include "limit/proxies.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

#include "config/config.hpp"

namespace emporium::limit {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

bool trusted_peer(const Address& a, const std::vector<Cidr>& trusted) {
  return std::any_of(trusted.begin(), trusted.end(), [&a](const Cidr& c) { return c.contains(a); });
}

// The entries of every X-Forwarded-For field, in order.
std::vector<std::string_view> forwarded_for(const http::Headers& headers) {
  std::vector<std::string_view> out;
  for (const auto& [name, value] : headers.fields()) {
    if (!http::iequals(name, "X-Forwarded-For")) {
      continue;
    }
    std::string_view rest = value;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      out.push_back(trim(rest.substr(0, comma)));
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
  }
  return out;
}

}  // namespace

std::string Address::text() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf);
  return buf;
}

std::optional<Address> parse_address(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  const std::string s(text);
  Address a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) {
    return a;
  }
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) != 1) {
    return std::nullopt;
  }
  static constexpr std::array<std::uint8_t, 12> kMapped = {0, 0, 0, 0, 0,    0,
                                                           0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(kMapped.begin(), kMapped.end(), a.bytes.begin())) {
    std::copy(a.bytes.begin() + 12, a.bytes.end(), a.bytes.begin());
    std::fill(a.bytes.begin() + 4, a.bytes.end(), 0);
    return a;
  }
  a.v6 = true;
  return a;
}

bool Cidr::contains(const Address& a) const noexcept {
  if (a.v6 != base.v6) {
    return false;
  }
  int bits = prefix;
  for (std::size_t i = 0; bits > 0; ++i, bits -= 8) {
    const auto mask = static_cast<std::uint8_t>(bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff);
    if ((a.bytes[i] & mask) != (base.bytes[i] & mask)) {
      return false;
    }
  }
  return true;
}

std::optional<Cidr> parse_cidr(std::string_view text) {
  text = trim(text);
  const auto slash = text.find('/');
  auto base = parse_address(text.substr(0, slash));
  if (!base) {
    return std::nullopt;
  }
  const int max = base->v6 ? 128 : 32;
  int prefix = max;
  if (slash != std::string_view::npos) {
    const auto p = text.substr(slash + 1);
    const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
    if (p.empty() || ec != std::errc() || end != p.data() + p.size() || prefix < 0 ||
        prefix > max) {
      return std::nullopt;
    }
  }
  return Cidr{*base, prefix};
}

std::vector<Cidr> parse_cidrs(std::string_view text, std::string_view key) {
  std::vector<Cidr> out;
  for (const auto& entry : config::split_list(std::string(text))) {
    auto c = parse_cidr(entry);
    if (!c) {
      throw config::ConfigError("invalid value for " + std::string(key) + ": '" + entry +
                                "' is not an address or CIDR block (such as 10.0.0.0/16)");
    }
    out.push_back(*c);
  }
  return out;
}

std::optional<Address> client_address(std::string_view remote, const http::Headers& headers,
                                      const std::vector<Cidr>& trusted) {
  const auto colon = remote.rfind(':');
  if (colon == std::string_view::npos) {
    return std::nullopt;
  }
  auto peer = parse_address(remote.substr(0, colon));
  if (!peer || !trusted_peer(*peer, trusted)) {
    return peer;
  }
  const auto hops = forwarded_for(headers);
  Address client = *peer;
  // Right to left (a reverse view would not compile with clang 14).
  for (auto it = hops.rbegin(); it != hops.rend(); ++it) {  // NOLINT(modernize-loop-convert)
    auto hop = parse_address(*it);
    if (!hop) {
      break;
    }
    client = *hop;
    if (!trusted_peer(client, trusted)) {
      break;
    }
  }
  return client;
}

}  // namespace emporium::limit
