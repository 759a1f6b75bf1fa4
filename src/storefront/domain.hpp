#pragma once

#include <string>
#include <string_view>

namespace emporium::storefront {

// The Content-Type of a built file, from its extension.
std::string_view content_type(std::string_view path) noexcept;

// True for a file whose name carries its content hash (web/dist/assets/):
// cached for a year as immutable.
bool hashed(std::string_view path) noexcept;

// Which precompressed variant to send for an Accept-Encoding header value:
// "br" when brotli is acceptable (q > 0) and the variant exists, else "gzip"
// likewise, else "" (the file as built).
std::string_view choose_encoding(std::string_view accept_encoding, bool has_br,
                                 bool has_gzip) noexcept;

// The file to answer a GET of `path` (as sent, starting with "/") with when
// it names no built file: the admin console's page under /admin, the
// storefront's page for any other path of the single-page app; "" for a path
// that must stay a 404 (under /api, /internal or /metrics, or whose last segment has an
// extension).
std::string page_for(std::string_view path);

}  // namespace emporium::storefront
