#include "shop.hpp"

#include <signal.h>

#include <cstdlib>
#include <stdexcept>

#include "core/ids.hpp"
#include "db/db.hpp"

namespace emporium::test {

namespace json = boost::json;

namespace {

std::vector<std::string> common_args(const std::string& data_dir) {
  return {"--data-dir=" + data_dir,       "--jwt-secret=" + kTestSecret,
          "--admin-email=" + kAdminEmail, "--admin-password=" + kAdminPassword,
          "--demo-catalog=false",         "--io-threads=2",
          "--drain-timeout=2s",           "--task-interval=200ms",
          "--upstream-timeout=2s"};
}

}  // namespace

std::string Reply::error() const {
  if (body.is_object()) {
    if (const auto* e = body.as_object().if_contains("error"); e && e->is_string()) {
      return std::string(e->get_string());
    }
  }
  return {};
}

Reply Shop::call(const std::string& method, const std::string& target, const std::string& body,
                 const std::string& token, std::vector<std::string> headers) const {
  if (!token.empty()) {
    headers.push_back("Authorization: Bearer " + token);
  }
  if (!body.empty()) {
    headers.emplace_back("Content-Type: application/json");
  }
  auto res = request(method, port(), target, body, headers);
  if (!res) {
    throw std::runtime_error("no response for " + method + " " + target);
  }
  Reply r;
  r.status = res->status;
  r.headers = res->headers;
  r.raw = res->body;
  boost::system::error_code ec;
  r.body = json::parse(res->body, ec);
  if (ec) {
    r.body = nullptr;
  }
  return r;
}

Customer Shop::register_and_login(const std::string& email, const std::string& password) {
  auto reg = call(
      "POST", "/api/users/register",
      json::serialize(json::object{{"email", email}, {"password", password}, {"name", "Test"}}));
  if (reg.status != 201) {
    throw std::runtime_error("register failed: " + reg.raw);
  }
  auto login = call("POST", "/api/users/login",
                    json::serialize(json::object{{"email", email}, {"password", password}}));
  if (login.status != 200) {
    throw std::runtime_error("login failed: " + login.raw);
  }
  return Customer{std::string(reg.obj().at("id").as_string()), email,
                  std::string(login.obj().at("token").as_string()),
                  std::string(login.obj().at("refreshToken").as_string())};
}

std::string Shop::admin_token() {
  if (admin_token_.empty()) {
    auto login =
        call("POST", "/api/users/login",
             json::serialize(json::object{{"email", kAdminEmail}, {"password", kAdminPassword}}));
    if (login.status != 200) {
      throw std::runtime_error("admin login failed: " + login.raw);
    }
    admin_token_ = std::string(login.obj().at("token").as_string());
  }
  return admin_token_;
}

std::string Shop::create_product(const std::string& name, double price, std::int64_t stock,
                                 const std::string& category) {
  auto r = call("POST", "/api/products",
                json::serialize(json::object{
                    {"name", name}, {"price", price}, {"stock", stock}, {"category", category}}),
                admin_token());
  if (r.status != 201) {
    throw std::runtime_error("create product failed: " + r.raw);
  }
  return std::string(r.obj().at("id").as_string());
}

std::int64_t Shop::stock_of(const std::string& product_id) const {
  auto r = call("GET", "/api/products/" + product_id);
  if (r.status != 200) {
    throw std::runtime_error("product lookup failed: " + r.raw);
  }
  return r.obj().at("stock").as_int64();
}

Reply Shop::add_to_cart(const Customer& c, const std::string& product_id, std::int64_t qty) const {
  return call("POST", "/api/cart/" + c.id + "/items",
              json::serialize(json::object{{"productId", product_id}, {"quantity", qty}}), c.token);
}

std::string Shop::address_json() {
  return R"({"street":"1 Main St","city":"Springfield","state":"IL","zipCode":"62701","country":"US"})";
}

Reply Shop::place_order(const Customer& c, const std::vector<std::string>& headers) const {
  return call("POST", "/api/orders",
              R"({"userId":")" + c.id + R"(","shippingAddress":)" + address_json() + "}", c.token,
              headers);
}

std::string Shop::expired_token(const std::string& subject, const std::string& role) {
  auth::Tokens tokens(auth::TokenSettings{.secret = kTestSecret});
  return tokens.issue(subject, role, std::chrono::seconds(-120), "emporium", "sid-1");
}

std::vector<std::string> Storage::args() const {
  if (kind == "postgres") {
    return {"--database-url=" + database_url, "--database-pool-size=4"};
  }
  return {};
}

Storage Storage::make(const std::string& kind) {
  Storage s;
  s.kind = kind;
  if (kind != "postgres") {
    return s;
  }
  const char* base = std::getenv("EMPORIUM_TEST_DATABASE_URL");
  if (base == nullptr || *base == '\0') {
    throw std::runtime_error(
        "EMPORIUM_TEST_DATABASE_URL is not set: run the suite through `make test`, which starts "
        "PostgreSQL (scripts/local-services.sh)");
  }
  return postgres_on(base);
}

Storage Storage::postgres_on(const std::string& base) {
  Storage s;
  s.kind = "postgres";
  // A fresh database per shop, so tests can run in parallel.
  const std::string name = "shop_" + core::new_id();
  {
    auto admin = db::open_postgres({.url = base, .pool_size = 1});
    auto c = admin->acquire();
    c->exec_script("CREATE DATABASE " + name);
  }
  std::string url = base;
  const auto query = url.find('?');
  const auto slash = url.rfind('/', query == std::string::npos ? url.size() : query);
  url = url.substr(0, slash + 1) + name +
        (query == std::string::npos ? std::string() : url.substr(query));
  s.database_url = url;
  return s;
}

AllInOneShop::AllInOneShop(Storage storage, std::vector<std::string> extra_args,
                           std::string data_dir)
    : dir_(data_dir.empty() ? temp_dir() : std::move(data_dir)) {
  auto args = common_args(dir_);
  const auto extra = storage.args();
  args.insert(args.end(), extra.begin(), extra.end());
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  args.insert(args.begin(), {"serve", "--listen=127.0.0.1:0"});
  process_ = std::make_unique<Process>(args);
  port_ = process_->wait_listening(std::chrono::seconds(20));
}

SplitShop::SplitShop(std::function<std::string(std::uint16_t)> cart_url_for_order, Storage storage,
                     std::vector<std::string> extra_args, ServiceArgs service_args)
    : dir_(temp_dir()),
      storage_(std::move(storage)),
      extra_args_(std::move(extra_args)),
      service_args_(std::move(service_args)) {
  auto url = [](std::uint16_t p) { return "http://127.0.0.1:" + std::to_string(p); };
  // Every verifier reads revoked sessions from the user service: it starts first.
  procs_["user"] = start("user", {});
  const std::string user_url = "--user-url=" + url(ports_["user"]);
  procs_["product"] = start("product", {user_url});
  procs_["cart"] = start("cart", {"--product-url=" + url(ports_["product"]), user_url});
  const std::string cart_url =
      cart_url_for_order ? cart_url_for_order(ports_["cart"]) : url(ports_["cart"]);
  procs_["order"] = start(
      "order", {"--product-url=" + url(ports_["product"]), "--cart-url=" + cart_url, user_url});
  procs_["notification"] = start("notification", {"--user-url=" + url(ports_["user"])});
  procs_["gateway"] = start(
      "gateway", {"--product-url=" + url(ports_["product"]), "--user-url=" + url(ports_["user"]),
                  "--cart-url=" + url(ports_["cart"]), "--order-url=" + url(ports_["order"])});
  gateway_port_ = ports_["gateway"];
}

std::unique_ptr<Process> SplitShop::start(const std::string& name, std::vector<std::string> extra,
                                          std::uint16_t port) {
  wiring_[name] = extra;
  auto args = common_args(dir_ + "/" + name);
  const auto storage = storage_.args();
  args.insert(args.end(), storage.begin(), storage.end());
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  if (const auto own = service_args_.find(name); own != service_args_.end()) {
    args.insert(args.end(), own->second.begin(), own->second.end());
  }
  args.insert(args.begin(),
              {"serve", "--services=" + name, "--listen=127.0.0.1:" + std::to_string(port)});
  args.insert(args.end(), extra.begin(), extra.end());
  auto p = std::make_unique<Process>(args);
  ports_[name] = p->wait_listening(std::chrono::seconds(20));
  return p;
}

std::uint16_t SplitShop::service_port(const std::string& name) const {
  return ports_.at(name);
}

void SplitShop::kill(const std::string& name) {
  procs_.at(name)->signal(SIGKILL);
  procs_.at(name)->wait_exit(std::chrono::seconds(5));
}

void SplitShop::restart(const std::string& name,
                        std::optional<std::vector<std::string>> service_args) {
  if (service_args) {
    service_args_[name] = std::move(*service_args);
  }
  procs_[name] = start(name, wiring_.at(name), ports_.at(name));
}

std::unique_ptr<Shop> make_shop(const std::string& shape, const std::string& storage) {
  if (shape == "split") {
    return std::make_unique<SplitShop>(nullptr, Storage::make(storage));
  }
  return std::make_unique<AllInOneShop>(Storage::make(storage));
}

}  // namespace emporium::test
