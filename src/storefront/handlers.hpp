#pragma once

#include "http/message.hpp"
#include "storefront/assets.hpp"

namespace emporium::storefront {

// The Content-Security-Policy of every storefront answer: scripts, styles,
// images and API calls from this origin only; no inline script or style.
inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'; object-src 'none'";

// Serves the built files from memory on the I/O thread: a file by its path,
// the single-page app's page for any other path (see page_for); the
// precompressed variant the client accepts; ETag with 304 revalidation;
// hashed assets `immutable` for a year, pages `no-cache`.
class Handlers {
 public:
  explicit Handlers(const Assets& assets) : assets_(assets) {}

  http::Response serve(const http::Request& req) const;

 private:
  const Assets& assets_;
};

}  // namespace emporium::storefront
