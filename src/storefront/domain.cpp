#include "storefront/domain.hpp"

#include <array>
#include <utility>

#include "http/message.hpp"

namespace emporium::storefront {

namespace {

bool starts_with_segment(std::string_view path, std::string_view prefix) {
  return path == prefix || (path.size() > prefix.size() &&
                            path.substr(0, prefix.size()) == prefix && path[prefix.size()] == '/');
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// Whether `coding` is listed in `header` with a q-value above zero. By hand:
// Boost 1.81's beast::http::ext_list gives every element after one with
// parameters that element's parameters too ("br;q=0, gzip" reads gzip as q=0).
bool acceptable(std::string_view header, std::string_view coding) {
  while (!header.empty()) {
    const auto comma = header.find(',');
    auto item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    const auto semi = item.find(';');
    if (!http::iequals(trim(item.substr(0, semi)), coding)) {
      continue;
    }
    if (semi == std::string_view::npos) {
      return true;
    }
    auto param = trim(item.substr(semi + 1));
    if (param.size() < 2 || (param[0] != 'q' && param[0] != 'Q') || param[1] != '=') {
      return true;
    }
    param.remove_prefix(2);
    // q=0, q=0.0, q=0.00, q=0.000 refuse the coding; any other value accepts it.
    return param.find_first_not_of("0.") != std::string_view::npos;
  }
  return false;
}

}  // namespace

std::string_view content_type(std::string_view path) noexcept {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 14> kTypes{{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".webp", "image/webp"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".map", "application/json"},
  }};
  for (const auto& [ext, type] : kTypes) {
    if (path.size() >= ext.size() && path.substr(path.size() - ext.size()) == ext) {
      return type;
    }
  }
  return "application/octet-stream";
}

bool hashed(std::string_view path) noexcept {
  return starts_with_segment(path, "assets");
}

std::string_view choose_encoding(std::string_view accept_encoding, bool has_br,
                                 bool has_gzip) noexcept {
  if (has_br && acceptable(accept_encoding, "br")) {
    return "br";
  }
  if (has_gzip && acceptable(accept_encoding, "gzip")) {
    return "gzip";
  }
  return "";
}

std::string page_for(std::string_view path) {
  // /metrics too: it is served on the admin listener only, and the public
  // port answers 404 for it, never the app's page.
  if (starts_with_segment(path, "/api") || starts_with_segment(path, "/internal") ||
      starts_with_segment(path, "/metrics")) {
    return "";
  }
  const auto last = path.substr(path.rfind('/') + 1);
  if (last.find('.') != std::string_view::npos) {
    return "";
  }
  return starts_with_segment(path, "/admin") ? "admin/index.html" : "index.html";
}

}  // namespace emporium::storefront
