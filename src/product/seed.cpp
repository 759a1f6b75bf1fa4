#include "product/seed.hpp"

#include <boost/json.hpp>
#include <chrono>
#include <stdexcept>

#include "common/embedded.hpp"
#include "core/ids.hpp"

namespace emporium::product {

int load_demo_catalog(Store& store) {
  if (store.count() > 0) {
    return 0;
  }
  const auto files = embedded::demo_catalog();
  const auto catalog = boost::json::parse(files.at(0).second).as_array();
  int added = 0;
  auto t = std::chrono::system_clock::now() - std::chrono::hours(24 * 60);
  for (const auto& item : catalog) {
    auto in = read_new_product(item.as_object());
    if (!in) {
      const auto& first = in.error().fields.front();
      throw std::runtime_error("demo catalog entry invalid: " + first.field + " " + first.msg);
    }
    Product p;
    p.id = core::new_id();
    apply(*in, p);
    t += std::chrono::hours(24);
    p.created_at = p.updated_at = core::to_iso8601(t);
    store.insert(p);
    ++added;
  }
  return added;
}

}  // namespace emporium::product
