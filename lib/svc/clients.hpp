#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "auth/auth.hpp"
#include "svc/upstream.hpp"

namespace emporium::svc {

// Typed clients for the internal APIs services offer each other. Each call
// carries a service credential and the caller's request id. A failure to get
// an answer (or a 5xx) throws core::Error marked transient, which the
// pipeline answers 503/504; an unexpected answer throws a non-transient one.

struct ProductSummary {
  std::string id;
  std::string name;
  std::string currency;
  std::int64_t price_cents = 0;
  std::int64_t stock = 0;
};

struct Line {
  std::string product_id;
  std::int64_t quantity = 0;
  bool operator==(const Line&) const = default;
};

struct ReservedLine {
  std::string product_id;
  std::string name;
  std::string currency;
  std::int64_t price_cents = 0;
  std::int64_t quantity = 0;
};

// Why a reservation was refused: the first line that could not be covered.
struct Shortage {
  std::string product_id;
  std::string name;  // empty when the product does not exist
  std::int64_t available = 0;
  std::int64_t requested = 0;
};

// What every internal client shares: the way to the service, and the
// credential and request id each call carries.
class InternalClient {
 public:
  InternalClient(Upstream& upstream, const auth::Tokens& tokens, std::string caller)
      : upstream_(upstream),
        tokens_(tokens),
        caller_(std::move(caller)),
        token_(std::make_unique<CachedToken>()) {}

 protected:
  // A call's options: the request id and a service token. One token serves
  // the calls of kTokenReuse (half its lifetime), so that each call does not
  // sign one of its own.
  http::CallOptions options(const std::string& request_id) const;
  Upstream& upstream_;

 private:
  static constexpr std::chrono::seconds kTokenReuse{60};
  struct CachedToken {
    std::mutex mutex;
    std::string token;
    std::chrono::steady_clock::time_point issued{};
  };
  std::string token() const;

  const auth::Tokens& tokens_;
  std::string caller_;
  std::unique_ptr<CachedToken> token_;  // behind a pointer: the client stays movable
};

class ProductApi : public InternalClient {
 public:
  using InternalClient::InternalClient;

  // The products that exist among `ids`, keyed by id.
  std::map<std::string, ProductSummary> lookup(const std::vector<std::string>& ids,
                                               const std::string& request_id);
  // Takes stock for every line at once, or none. Idempotent per order id:
  // reserving the same order again returns the first reservation.
  std::variant<std::vector<ReservedLine>, Shortage> reserve(const std::string& order_id,
                                                            const std::vector<Line>& lines,
                                                            const std::string& request_id);
  // Returns an order's reserved stock. Idempotent: stock comes back once.
  void release(const std::string& order_id, const std::string& request_id);
};

// A user as other services see it.
struct UserProfile {
  std::string id;
  std::string email;
  std::string name;
};

class UserApi : public InternalClient {
 public:
  using InternalClient::InternalClient;

  // The user's id, email and name; nullopt when there is no such user.
  std::optional<UserProfile> profile(const std::string& user_id, const std::string& request_id);
};

class CartApi : public InternalClient {
 public:
  using InternalClient::InternalClient;

  std::vector<Line> items(const std::string& user_id, const std::string& request_id);
  // Empties the cart. Idempotent.
  void clear(const std::string& user_id, const std::string& request_id);
  // Takes the `lines` order `order_id` bought out of the user's cart (what
  // was added since stays). Idempotent: once per order id.
  void remove_bought(const std::string& user_id, const std::string& order_id,
                     const std::vector<Line>& lines, const std::string& request_id);
};

}  // namespace emporium::svc
