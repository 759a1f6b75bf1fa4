#include "cache/cache.hpp"

#include <charconv>
#include <stdexcept>

#include "cache/lru.hpp"
#include "cache/redis.hpp"

namespace emporium::cache {

namespace {

bool to_int(std::string_view s, int min, int max, int& out) {
  int v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || v < min || v > max) {
    return false;
  }
  out = v;
  return true;
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) {
      return std::nullopt;
    }
    int v = 0;
    const auto hex = s.substr(i + 1, 2);
    const auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), v, 16);
    if (ec != std::errc() || end != hex.data() + 2) {
      return std::nullopt;
    }
    out += static_cast<char>(v);
    i += 2;
  }
  return out;
}

}  // namespace

std::optional<RedisAddress> parse_redis_url(std::string_view url) {
  constexpr std::string_view scheme = "redis://";
  if (url.substr(0, scheme.size()) != scheme) {
    return std::nullopt;
  }
  auto rest = url.substr(scheme.size());
  RedisAddress a;
  // [/db] at the end, then [[user]:password@] in front of host[:port].
  std::string_view path;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    path = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  if (!path.empty() && !to_int(path, 0, 1'000'000, a.db)) {
    return std::nullopt;
  }
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const auto userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const auto colon = userinfo.find(':');
    auto user = percent_decode(userinfo.substr(0, colon));
    auto password = percent_decode(colon == std::string_view::npos ? std::string_view()
                                                                   : userinfo.substr(colon + 1));
    if (!user || !password) {
      return std::nullopt;
    }
    if (colon == std::string_view::npos) {
      // redis://secret@host: a lone userinfo is the password.
      a.password = std::move(*user);
    } else {
      a.user = std::move(*user);
      a.password = std::move(*password);
    }
  }
  std::string_view host = rest;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) {
      return std::nullopt;
    }
    host = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
    if (!rest.empty() && (rest.front() != ':' || !to_int(rest.substr(1), 1, 65535, a.port))) {
      return std::nullopt;
    }
  } else if (const auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    if (!to_int(rest.substr(colon + 1), 1, 65535, a.port)) {
      return std::nullopt;
    }
  }
  if (host.empty() || host.find_first_of("/?#@ ") != std::string_view::npos) {
    return std::nullopt;
  }
  a.host = std::string(host);
  return a;
}

std::unique_ptr<Cache> make_cache(const CacheSettings& settings) {
  if (settings.redis_url.empty()) {
    return std::make_unique<LruCache>(settings.max_entries, settings.max_bytes);
  }
  auto address = parse_redis_url(settings.redis_url);
  if (!address) {
    throw std::invalid_argument(
        "must be redis://[[user]:password@]host[:port][/db] (TLS is not supported) or empty");
  }
  return std::make_unique<RedisCache>(RedisOptions{.address = std::move(*address),
                                                   .pool_size = settings.pool_size,
                                                   .connect_timeout = settings.connect_timeout,
                                                   .command_timeout = settings.command_timeout,
                                                   .retry_after = settings.retry_after});
}

}  // namespace emporium::cache
