#include "svc/revocations.hpp"

#include <boost/json.hpp>
#include <charconv>

#include "cache/cache.hpp"
#include "cache/redis.hpp"
#include "core/ids.hpp"

namespace emporium::svc {

namespace {

namespace json = boost::json;

constexpr std::string_view kSeqKey = "emporium:sessions:revoked:seq";

std::string entry_key(std::int64_t n) {
  return "emporium:sessions:revoked:" + std::to_string(n);
}

std::optional<std::int64_t> to_int(std::string_view s) {
  std::int64_t v = 0;
  const auto* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, v);
  if (ec != std::errc() || p != end) {
    return std::nullopt;
  }
  return v;
}

std::unique_ptr<cache::Cache> redis_cache(const std::string& url) {
  auto address = cache::parse_redis_url(url);
  if (!address) {
    throw std::invalid_argument("invalid value for redis_url");
  }
  cache::RedisOptions o;
  o.address = *address;
  o.pool_size = 2;
  return std::make_unique<cache::RedisCache>(o);
}

}  // namespace

RedisRevocations::RedisRevocations(const std::string& redis_url) : cache_(redis_cache(redis_url)) {}

RedisRevocations::RedisRevocations(std::unique_ptr<cache::Cache> cache)
    : cache_(std::move(cache)) {}

RedisRevocations::~RedisRevocations() = default;

bool RedisRevocations::publish(const std::vector<auth::Revocation>& rs) {
  const auto now = core::unix_seconds();
  for (const auto& r : rs) {
    const auto n = cache_->incr(kSeqKey);
    if (!n) {
      return false;
    }
    const auto ttl = std::chrono::seconds(std::max<std::int64_t>(1, r.expires_at - now));
    if (!cache_->set(entry_key(*n), r.sid + " " + std::to_string(r.expires_at), ttl)) {
      return false;
    }
  }
  return true;
}

std::optional<auth::RevocationBatch> RedisRevocations::since(std::int64_t cursor) {
  const auto seq = cache_->lookup(kSeqKey);
  if (seq.failed) {
    return std::nullopt;
  }
  const std::int64_t last = seq.value ? to_int(*seq.value).value_or(0) : 0;
  // A first read, or a server that lost its data since: start over.
  const std::int64_t from =
      cursor <= 0 || cursor > last ? std::max<std::int64_t>(0, last - kBackfill) : cursor;
  auth::RevocationBatch batch{{}, last};
  for (std::int64_t n = from + 1; n <= last; ++n) {
    const auto e = cache_->lookup(entry_key(n));
    if (e.failed) {
      return std::nullopt;
    }
    const auto space = e.value ? e.value->find(' ') : std::string::npos;
    if (space == std::string::npos) {
      if (last - n < kRecent && batch.cursor == last) {
        batch.cursor = n - 1;  // maybe not written yet: read it again next time
      }
      continue;
    }
    if (auto until = to_int(std::string_view(*e.value).substr(space + 1))) {
      batch.revocations.push_back({e.value->substr(0, space), *until});
    }
  }
  return batch;
}

std::optional<auth::RevocationBatch> UserServiceRevocations::since(std::int64_t cursor) {
  const auto opts = options(core::new_id());
  try {
    auto r = upstream_.call("GET", "/internal/sessions/revoked?since=" + std::to_string(cursor), {},
                            opts);
    if (!r.has_value() || r->status != 200) {
      return std::nullopt;
    }
    return parse_revocations(r->body);
  } catch (const std::exception&) {
    return std::nullopt;  // e.g. a handler failing in-process: retried next time
  }
}

std::string revocations_json(const auth::RevocationBatch& batch) {
  json::array items;
  for (const auto& r : batch.revocations) {
    items.push_back(json::object{{"sid", r.sid}, {"expiresAt", r.expires_at}});
  }
  return json::serialize(json::object{{"revocations", std::move(items)}, {"cursor", batch.cursor}});
}

std::optional<auth::RevocationBatch> parse_revocations(std::string_view body) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  const auto* o = ec ? nullptr : v.if_object();
  const auto* items = o != nullptr ? o->if_contains("revocations") : nullptr;
  const auto* cursor = o != nullptr ? o->if_contains("cursor") : nullptr;
  if (items == nullptr || !items->is_array() || cursor == nullptr || !cursor->is_int64()) {
    return std::nullopt;
  }
  auth::RevocationBatch batch{{}, cursor->get_int64()};
  for (const auto& item : items->get_array()) {
    const auto* e = item.if_object();
    const auto* sid = e != nullptr ? e->if_contains("sid") : nullptr;
    const auto* until = e != nullptr ? e->if_contains("expiresAt") : nullptr;
    if (sid != nullptr && sid->is_string() && until != nullptr && until->is_int64()) {
      batch.revocations.push_back({std::string(sid->get_string()), until->get_int64()});
    }
  }
  return batch;
}

}  // namespace emporium::svc
