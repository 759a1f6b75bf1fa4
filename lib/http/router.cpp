#include "http/router.hpp"

#include <algorithm>
#include <boost/url/pct_string_view.hpp>
#include <stdexcept>

namespace emporium::http {

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.size() > 1 && path.back() == '/') {
    path.remove_suffix(1);
  }
  std::size_t i = (!path.empty() && path.front() == '/') ? 1 : 0;
  while (i <= path.size()) {
    const std::size_t j = std::min(path.find('/', i), path.size());
    out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  if (out.size() == 1 && out.front().empty()) {
    out.clear();  // "/" has no segments
  }
  return out;
}

// Specificity of a matching route: literal segments earlier in the path
// weigh more than later ones.
std::uint64_t specificity(const Route& r) {
  std::uint64_t score = 0;
  for (const auto& [text, is_param] : r.segments) {
    score = (score << 1) | (is_param ? 0U : 1U);
  }
  return score;
}

bool segments_match(const Route& r, const std::vector<std::string_view>& parts) {
  if (r.segments.size() != parts.size()) {
    return false;
  }
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& [text, is_param] = r.segments[i];
    if (is_param ? parts[i].empty() : parts[i] != text) {
      return false;
    }
  }
  return true;
}

// True when two templates match the same paths (parameter names aside).
bool same_shape(const Route& a, const Route& b) {
  if (a.segments.size() != b.segments.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.segments.size(); ++i) {
    const auto& [at, ap] = a.segments[i];
    const auto& [bt, bp] = b.segments[i];
    if (ap != bp || (!ap && at != bt)) {
      return false;
    }
  }
  return true;
}

// The most specific template among `routes` matching the path, or null.
const Route* best_template(const std::vector<Route>& routes,
                           const std::vector<std::string_view>& parts) {
  const Route* best = nullptr;
  std::uint64_t best_score = 0;
  for (const auto& r : routes) {
    if (segments_match(r, parts)) {
      const auto s = specificity(r);
      if (best == nullptr || s > best_score) {
        best = &r;
        best_score = s;
      }
    }
  }
  return best;
}

// The route of the longest prefix that is `encoded_path` or a parent of it,
// or null; of equal prefixes the last registered wins.
const Route* longest_prefix(const std::vector<std::pair<std::string, Route>>& prefixes,
                            std::string_view encoded_path) {
  const Route* best = nullptr;
  std::size_t best_len = 0;
  for (const auto& [prefix, route] : prefixes) {
    const bool hit =
        encoded_path == prefix ||
        (encoded_path.size() > prefix.size() && encoded_path.substr(0, prefix.size()) == prefix &&
         (prefix == "/" || encoded_path[prefix.size()] == '/'));
    if (hit && prefix.size() >= best_len) {
      best = &route;
      best_len = prefix.size();
    }
  }
  return best;
}

// Appends the percent-decoded values of `r`'s parameter segments in `parts`
// to `params`. False when one is not valid percent-encoding or valid text.
bool decode_params(const Route& r, const std::vector<std::string_view>& parts,
                   std::vector<std::pair<std::string, std::string>>& params) {
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& [name, is_param] = r.segments[i];
    if (!is_param) {
      continue;
    }
    auto decoded = boost::urls::make_pct_string_view(parts[i]);
    std::string value = decoded ? decoded->decode() : std::string();
    if (!decoded || !valid_text(value)) {
      return false;
    }
    params.emplace_back(name, std::move(value));
  }
  return true;
}

}  // namespace

void Router::add(std::string_view method, std::string_view path_template, Handler handler,
                 RouteOptions options) {
  Route r{
      std::string(method), std::string(path_template), std::move(handler), std::move(options), {}};
  for (auto seg : split_path(path_template)) {
    const bool open = seg.find('{') != std::string_view::npos;
    const bool close = seg.find('}') != std::string_view::npos;
    if (open || close) {
      if (seg.size() < 3 || seg.front() != '{' || seg.back() != '}') {
        throw std::invalid_argument("bad route template: " + std::string(path_template));
      }
      r.segments.emplace_back(std::string(seg.substr(1, seg.size() - 2)), true);
    } else {
      r.segments.emplace_back(std::string(seg), false);
    }
  }
  for (const auto& existing : routes_) {
    if (existing.method == r.method && same_shape(existing, r)) {
      throw std::invalid_argument("duplicate route: " + r.method + " " + r.path_template);
    }
  }
  routes_.push_back(std::move(r));
}

void Router::add_prefix(std::string_view prefix, Handler handler, RouteOptions options) {
  std::string p(prefix);
  while (p.size() > 1 && p.back() == '/') {
    p.pop_back();
  }
  Route r{"*", p == "/" ? "/*" : p + "/*", std::move(handler), std::move(options), {}};
  prefixes_.emplace_back(std::move(p), std::move(r));
}

Router::Match Router::match(std::string_view method, std::string_view encoded_path) const {
  const auto parts = split_path(encoded_path);
  const Route* best_path = best_template(routes_, parts);
  Match m;
  if (best_path == nullptr) {
    if (const Route* prefix = longest_prefix(prefixes_, encoded_path); prefix != nullptr) {
      m.route = prefix;
      m.status = 200;
    }
    return m;
  }
  // All routes sharing the winning template form the resource.
  const std::string_view wanted = method == "HEAD" ? std::string_view("GET") : method;
  for (const auto& r : routes_) {
    if (!same_shape(r, *best_path)) {
      continue;
    }
    if (r.method == wanted) {
      m.route = &r;
    }
    if (!m.allow.empty()) {
      m.allow += ", ";
    }
    m.allow += r.method;
    if (r.method == "GET") {
      m.allow += ", HEAD";
    }
  }
  if (m.route == nullptr) {
    m.status = 405;
    return m;
  }
  m.status = 200;
  m.allow.clear();
  if (!decode_params(*m.route, parts, m.params)) {
    return Match{};  // undecodable parameter: no such resource
  }
  return m;
}

}  // namespace emporium::http
