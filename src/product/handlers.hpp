#pragma once

#include <functional>
#include <optional>

#include "http/message.hpp"
#include "product/cache.hpp"
#include "product/domain.hpp"
#include "product/store.hpp"

namespace emporium::product {

// The product service's endpoints: request (and typed input) -> response.
// Reads of products and collections go through the cache; every write
// invalidates what it changed once it is done (also when it threw, as it
// may have committed). Guards (admin, service credential) are the route
// table's; the bodies reach here already read by http::with_body.
class Handlers {
 public:
  // `events_written` is called after a reservation, which may have added a
  // stock.low outbox event.
  Handlers(Store& store, ProductCache& cache, std::function<void()> events_written)
      : store_(store), cache_(cache), events_written_(std::move(events_written)) {}

  // GET /api/products: a page of the catalog; 400 naming every invalid
  // query parameter.
  http::Response list(const http::Request& req);
  // GET /api/products/categories
  http::Response categories(const http::Request& req);
  // GET /api/products/{id}; 404 when there is no such product.
  http::Response get(const http::Request& req);
  // The fast paths of list(), categories() and get() (RouteOptions::fast):
  // the same response from the in-process cache when it holds the body,
  // otherwise nothing (the handler above answers). Never block.
  std::optional<http::Response> cached_list(const http::Request& req);
  std::optional<http::Response> cached_categories(const http::Request& req);
  std::optional<http::Response> cached_get(const http::Request& req);

  // POST /api/products: 201 with the product and its Location.
  http::Response create(const http::Request& req, const ProductInput& in);
  // PUT and PATCH /api/products/{id} (their readers differ): 200 with the
  // product as stored; 404 when there is no such product.
  http::Response update(const http::Request& req, const ProductInput& in);
  // DELETE /api/products/{id}; 404 when there is no such product.
  http::Response remove(const http::Request& req);

  // POST /internal/products/lookup: the products that exist among the ids.
  http::Response lookup(const http::Request& req, const LookupInput& in);
  // POST /internal/stock/reservations: 200 with the lines taken, or 409
  // naming the first line that could not be covered (nothing taken).
  http::Response reserve(const http::Request& req, ReservationInput in);
  // DELETE /internal/stock/reservations/{orderId}: {"released": whether
  // this call gave the stock back}.
  http::Response release(const http::Request& req);

 private:
  Store& store_;
  ProductCache& cache_;
  std::function<void()> events_written_;
};

}  // namespace emporium::product
