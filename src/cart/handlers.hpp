#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "auth/auth.hpp"
#include "cart/domain.hpp"
#include "cart/errors.hpp"
#include "cart/store.hpp"
#include "common/guards.hpp"
#include "http/message.hpp"
#include "svc/clients.hpp"

namespace emporium::cart {

// What the cart needs of the product service: names, prices and stock.
class Catalog {
 public:
  virtual ~Catalog() = default;
  // The products that exist among `ids`, keyed by id. Throws core::Error
  // when the catalog does not answer (the pipeline's 503/504).
  virtual std::map<std::string, svc::ProductSummary> lookup(const std::vector<std::string>& ids,
                                                            const std::string& request_id) = 0;
};

// Now, as ISO 8601 text: the time carts and lines are stamped with.
using Clock = std::function<std::string()>;

// Wraps f(request, user_id) so that it runs only for a signed-in caller who
// is the user {userId} or an admin: the 401 of signed_in without a valid
// token, 403 "Access denied to this cart" for anyone else. Checked before
// the body is read.
template <class F>
http::Handler cart_owner(const auth::Tokens& tokens, F f) {
  return signed_in(tokens, [f = std::move(f)](http::Request& req, const auth::Identity& who) {
    const std::string user_id(req.param("userId"));
    if (!who.may_act_for(user_id)) {
      return http::problem(http::Failure<Error>{.code = Error::not_owner});
    }
    return f(req, user_id);
  });
}

// The cart endpoints, request -> response. The public ones answer the cart as
// {"userId","items":[{"productId","name","price","quantity","subtotal"}],
// "total","updatedAt"} (+ "message" after a change), priced by the catalog;
// a line whose product left the catalog is not shown.
class Handlers {
 public:
  Handlers(Store& store, Catalog& catalog, Clock now)
      : store_(store), catalog_(catalog), now_(std::move(now)) {}

  // GET /api/cart/{userId}: 200 and the cart (empty for a user without one).
  http::Response view(http::Request& req, const std::string& user_id);
  // POST /api/cart/{userId}/items: adds to the line (creating the cart and
  // the line as needed); 201 when the cart was created, else 200. 404 for an
  // unknown product, 409 past kMaxQuantity or the stock (nothing changes).
  http::Response add(http::Request& req, const std::string& user_id, AddItem in);
  // PUT /api/cart/{userId}/items/{productId}: sets the line's quantity, 0
  // removes it. 404 when the line or (quantity > 0) the product is missing,
  // 409 past the stock.
  http::Response set(http::Request& req, const std::string& user_id, SetQuantity in);
  // DELETE /api/cart/{userId}/items/{productId}: 404 when there is no line.
  http::Response remove(http::Request& req, const std::string& user_id);
  // DELETE /api/cart/{userId}: empties the cart; {"message":"Cart cleared"}.
  http::Response clear(http::Request& req, const std::string& user_id);

  // GET /internal/carts/{userId}: {"items":[{"productId","quantity"}]}.
  http::Response internal_items(http::Request& req);
  // DELETE /internal/carts/{userId}: as clear. Idempotent.
  http::Response internal_clear(http::Request& req);
  // POST /internal/carts/{userId}/checkouts: takes what order `orderId`
  // bought out of the cart (a line added or raised since stays, less what the
  // order took), once per order id however often it is asked.
  // {"message","applied"}: applied is false for a repeat.
  http::Response internal_checkout(http::Request& req, const Checkout& in);

 private:
  boost::json::object render(const std::string& user_id, const std::string& request_id);
  http::Response with_message(const std::string& user_id, const std::string& request_id,
                              std::string_view message, int status = 200);
  void clear_items(const std::string& user_id);

  Store& store_;
  Catalog& catalog_;
  Clock now_;
};

}  // namespace emporium::cart
