#include "storefront/handlers.hpp"

#include "storefront/domain.hpp"
#include "storefront/errors.hpp"

namespace emporium::storefront {

namespace {

using http::Failure;

// The file a GET of `path` answers with, or null for a 404.
const Asset* resolve(const Assets& assets, std::string_view path) {
  const auto first = path.find_first_not_of('/');
  const auto relative = first == std::string_view::npos ? std::string_view() : path.substr(first);
  if (!relative.empty()) {
    if (const auto* file = assets.find(relative)) {
      return file;
    }
  }
  const auto page = page_for(path);
  return page.empty() ? nullptr : assets.find(page);
}

// Whether If-None-Match lists `etag` (or is "*").
bool not_modified(const http::Request& req, std::string_view etag) {
  const auto header = req.headers.get("If-None-Match");
  return header && (*header == "*" || header->find(etag) != std::string_view::npos);
}

}  // namespace

http::Response Handlers::serve(const http::Request& req) const {
  const Asset* file = resolve(assets_, req.path);
  if (file == nullptr) {
    return http::problem(Failure<Error>{.code = Error::not_found, .detail = "Not found"});
  }
  if (req.method != "GET" && req.method != "HEAD") {
    auto res = http::problem(
        Failure<Error>{.code = Error::method_not_allowed, .detail = "Method not allowed"});
    res.headers.set("Allow", "GET, HEAD");
    return res;
  }
  http::Response res;
  res.headers.set("Content-Security-Policy", kContentSecurityPolicy);
  res.headers.set("Cache-Control",
                  file->immutable ? "public, max-age=31536000, immutable" : "no-cache");
  res.headers.set("ETag", file->etag);
  if (!file->gzip.empty() || !file->brotli.empty()) {
    res.headers.set("Vary", "Accept-Encoding");
  }
  if (not_modified(req, file->etag)) {
    res.status = 304;
    return res;
  }
  const auto encoding = choose_encoding(req.headers.get("Accept-Encoding").value_or(""),
                                        !file->brotli.empty(), !file->gzip.empty());
  const auto bytes = encoding == "br"     ? file->brotli
                     : encoding == "gzip" ? file->gzip
                                          : file->identity;
  if (!encoding.empty()) {
    res.headers.set("Content-Encoding", encoding);
  }
  res.headers.set("Content-Type", file->content_type);
  res.body.assign(bytes);
  return res;
}

}  // namespace emporium::storefront
