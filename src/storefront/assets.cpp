#include "storefront/assets.hpp"

#include "core/ids.hpp"
#include "storefront/domain.hpp"

namespace emporium::storefront {

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

Assets::Assets(const std::vector<std::pair<std::string_view, std::string_view>>& files) {
  for (const auto& [path, bytes] : files) {
    if (!ends_with(path, ".gz") && !ends_with(path, ".br")) {
      auto& a = files_[std::string(path)];
      a.identity = bytes;
      a.content_type = content_type(path);
      a.etag = "\"" + core::sha256_hex(bytes).substr(0, 32) + "\"";
      a.immutable = hashed(path);
    }
  }
  for (const auto& [path, bytes] : files) {
    const bool gz = ends_with(path, ".gz");
    if (!gz && !ends_with(path, ".br")) {
      continue;
    }
    auto it = files_.find(std::string(path.substr(0, path.size() - 3)));
    if (it != files_.end()) {
      (gz ? it->second.gzip : it->second.brotli) = bytes;
    }
  }
}

const Asset* Assets::find(std::string_view path) const {
  auto it = files_.find(std::string(path));
  return it == files_.end() ? nullptr : &it->second;
}

}  // namespace emporium::storefront
