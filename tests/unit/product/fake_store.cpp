#include "fake_store.hpp"

#include <algorithm>
#include <cctype>
#include <tuple>

namespace emporium::product::testing {

namespace {

std::string lower(std::string s) {
  for (auto& c : s) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return s;
}

bool matches(const Product& p, const ListQuery& q) {
  if (q.category && p.category != *q.category) {
    return false;
  }
  if (q.text && lower(p.name).find(lower(*q.text)) == std::string::npos &&
      lower(p.description).find(lower(*q.text)) == std::string::npos) {
    return false;
  }
  return (!q.min_cents || p.price_cents >= *q.min_cents) &&
         (!q.max_cents || p.price_cents <= *q.max_cents);
}

bool before(const Product& a, const Product& b, Sort sort) {
  switch (sort) {
    case Sort::price_asc:
      return std::tie(a.price_cents, a.id) < std::tie(b.price_cents, b.id);
    case Sort::price_desc:
      return a.price_cents != b.price_cents ? a.price_cents > b.price_cents : a.id < b.id;
    case Sort::name_asc:
      return lower(a.name) != lower(b.name) ? lower(a.name) < lower(b.name) : a.id < b.id;
    case Sort::newest:
      return std::tie(b.created_at, b.id) < std::tie(a.created_at, a.id);
  }
  return false;
}

}  // namespace

Page FakeStore::list(const ListQuery& q) {
  ++reads;
  std::vector<Product> all;
  for (const auto& [id, p] : products) {
    if (matches(p, q)) {
      all.push_back(p);
    }
  }
  std::sort(all.begin(), all.end(),
            [&](const Product& a, const Product& b) { return before(a, b, q.sort); });
  Page page;
  page.total = static_cast<std::int64_t>(all.size());
  const auto first = std::min<std::size_t>(all.size(), (q.page - 1) * q.limit);
  const auto last = std::min<std::size_t>(all.size(), first + q.limit);
  page.items.assign(all.begin() + first, all.begin() + last);
  return page;
}

std::optional<Product> FakeStore::get(const std::string& id) {
  ++reads;
  auto it = products.find(id);
  return it == products.end() ? std::nullopt : std::optional<Product>(it->second);
}

std::vector<CategoryCount> FakeStore::categories() {
  std::map<std::string, std::int64_t> counts;
  for (const auto& [id, p] : products) {
    ++counts[p.category];
  }
  return {counts.begin(), counts.end()};
}

void FakeStore::insert(const Product& p) {
  products[p.id] = p;
}

bool FakeStore::update(const Product& p, std::optional<std::int64_t> stock) {
  auto it = products.find(p.id);
  if (it == products.end()) {
    return false;
  }
  const auto kept = it->second.stock;
  it->second = p;
  it->second.stock = stock.value_or(kept);
  return true;
}

bool FakeStore::remove(const std::string& id) {
  return products.erase(id) > 0;
}

std::vector<Product> FakeStore::get_many(const std::vector<std::string>& ids) {
  std::vector<Product> out;
  for (const auto& id : ids) {
    if (auto it = products.find(id); it != products.end()) {
      out.push_back(it->second);
    }
  }
  return out;
}

std::int64_t FakeStore::count() {
  return static_cast<std::int64_t>(products.size());
}

Reservation FakeStore::reserve(const std::string& order_id, const std::vector<svc::Line>& lines) {
  if (auto it = reservations.find(order_id); it != reservations.end()) {
    return it->second;
  }
  const auto wanted = merge_lines(lines);
  for (const auto& [id, qty] : wanted) {
    auto it = products.find(id);
    if (it == products.end()) {
      return svc::Shortage{id, "", 0, qty};
    }
    if (it->second.stock < qty) {
      return svc::Shortage{id, it->second.name, it->second.stock, qty};
    }
  }
  std::vector<svc::ReservedLine> out;
  for (const auto& [id, qty] : wanted) {
    auto& p = products.at(id);
    p.stock -= qty;
    low_stock_events += crossed_low_stock(p.stock, qty) ? 1 : 0;
    out.push_back({id, p.name, p.currency, p.price_cents, qty});
  }
  reservations[order_id] = out;
  return out;
}

bool FakeStore::release(const std::string& order_id) {
  auto it = reservations.find(order_id);
  if (it == reservations.end() || !released.insert(order_id).second) {
    return false;
  }
  for (const auto& l : it->second) {
    if (auto p = products.find(l.product_id); p != products.end()) {
      p->second.stock += l.quantity;
    }
  }
  return true;
}

std::vector<std::string> FakeStore::reserved_products(const std::string& order_id) {
  std::vector<std::string> out;
  if (auto it = reservations.find(order_id); it != reservations.end()) {
    for (const auto& l : it->second) {
      out.push_back(l.product_id);
    }
  }
  return out;
}

Product FakeStore::add(std::string id, std::string name, std::int64_t price_cents,
                       std::int64_t stock, std::string category) {
  Product p;
  p.id = std::move(id);
  p.name = std::move(name);
  p.price_cents = price_cents;
  p.stock = stock;
  p.category = std::move(category);
  p.created_at = p.updated_at = "2026-01-01T00:00:00Z";
  products[p.id] = p;
  return p;
}

}  // namespace emporium::product::testing
