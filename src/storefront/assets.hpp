#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace emporium::storefront {

// One built file and its precompressed variants (empty when not built).
struct Asset {
  std::string_view identity;
  std::string_view gzip;
  std::string_view brotli;
  std::string_view content_type;
  std::string etag;  // strong, quoted: a digest of the identity bytes
  bool immutable = false;
};

// The built storefront (web/dist) as the binary holds it: "x.gz" and "x.br"
// beside "x" are x's variants, not files of their own.
class Assets {
 public:
  explicit Assets(const std::vector<std::pair<std::string_view, std::string_view>>& files);

  // The file at `path` relative to the build ("index.html", "assets/app-1f2e.js").
  const Asset* find(std::string_view path) const;
  bool empty() const noexcept { return files_.empty(); }
  std::size_t size() const noexcept { return files_.size(); }

 private:
  std::unordered_map<std::string, Asset> files_;
};

}  // namespace emporium::storefront
