#pragma once

#include <boost/json.hpp>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth/auth.hpp"
#include "support.hpp"

namespace emporium::test {

inline const std::string kTestSecret = "integration-test-secret-0123456789abcdef";
inline const std::string kAdminEmail = "admin@shop.test";
inline const std::string kAdminPassword = "admin-password-1";

struct Reply {
  int status = 0;
  boost::json::value body;  // null when not JSON
  http::Headers headers;
  std::string raw;
  // body["error"] for problem responses, "" otherwise.
  std::string error() const;
  const boost::json::object& obj() const { return body.as_object(); }
  const boost::json::array& arr() const { return body.as_array(); }
};

struct Customer {
  std::string id;
  std::string email;
  std::string token;
  std::string refresh_token;
};

// A running shop, in either shape, reached through its gateway port.
class Shop {
 public:
  virtual ~Shop() = default;
  virtual std::uint16_t port() const = 0;

  Reply call(const std::string& method, const std::string& target, const std::string& body = {},
             const std::string& token = {}, std::vector<std::string> headers = {}) const;

  Customer register_and_login(const std::string& email,
                              const std::string& password = "password-123");
  std::string admin_token();
  // Creates a product through the API as admin; returns its id.
  std::string create_product(const std::string& name, double price, std::int64_t stock,
                             const std::string& category = "Test");
  std::int64_t stock_of(const std::string& product_id) const;
  Reply add_to_cart(const Customer& c, const std::string& product_id, std::int64_t qty) const;
  Reply place_order(const Customer& c, const std::vector<std::string>& headers = {}) const;

  static std::string address_json();
  // A token signed with the shop's secret but already expired.
  static std::string expired_token(const std::string& subject, const std::string& role);

 private:
  std::string admin_token_;
};

// Where the services keep their data: "sqlite" (files under the data
// directory) or "postgres" (a fresh database on the test server, one schema
// per service).
struct Storage {
  std::string kind = "sqlite";
  // Extra serve flags for this storage (e.g. --database-url=...).
  std::vector<std::string> args() const;
  std::string database_url;  // set for postgres
  static Storage make(const std::string& kind);
  // A fresh database on the PostgreSQL server at `server_url`.
  static Storage postgres_on(const std::string& server_url);
};

// All services and the gateway in one process. `extra_args` go to its
// command line after the usual ones (e.g. --smtp-url=...). The SQLite files
// go to `data_dir`, or to a new temporary directory when it is empty.
class AllInOneShop final : public Shop {
 public:
  explicit AllInOneShop(Storage storage = {}, std::vector<std::string> extra_args = {},
                        std::string data_dir = {});
  std::uint16_t port() const override { return port_; }
  Process& process() { return *process_; }
  // Where the SQLite files are (data_dir).
  const std::string& data_dir() const { return dir_; }

 private:
  std::string dir_;
  std::unique_ptr<Process> process_;
  std::uint16_t port_ = 0;
};

// One process per service plus a gateway, wired by URL. The order service
// may be pointed at a different cart URL (a fault-injecting proxy).
// `extra_args` go to every process's command line (e.g. --amqp-url=...),
// `service_args[name]` to that service's only.
class SplitShop final : public Shop {
 public:
  using ServiceArgs = std::map<std::string, std::vector<std::string>>;
  explicit SplitShop(std::function<std::string(std::uint16_t cart_port)> cart_url_for_order = {},
                     Storage storage = {}, std::vector<std::string> extra_args = {},
                     ServiceArgs service_args = {});
  std::uint16_t port() const override { return gateway_port_; }
  std::uint16_t service_port(const std::string& name) const;
  Process& process(const std::string& name) { return *procs_.at(name); }
  // Stops a service with SIGKILL, or starts it again on its old port and
  // command line, with `service_args` replacing its own arguments if given.
  void kill(const std::string& name);
  void restart(const std::string& name, std::optional<std::vector<std::string>> service_args = {});
  void kill_cart() { kill("cart"); }
  void start_cart() { restart("cart"); }

 private:
  std::unique_ptr<Process> start(const std::string& name, std::vector<std::string> extra,
                                 std::uint16_t port = 0);
  std::string dir_;
  Storage storage_;
  std::vector<std::string> extra_args_;
  ServiceArgs service_args_;
  std::map<std::string, std::vector<std::string>> wiring_;  // each service's URL flags
  std::map<std::string, std::unique_ptr<Process>> procs_;
  std::map<std::string, std::uint16_t> ports_;
  std::uint16_t gateway_port_ = 0;
};

// "all" or "split", on "sqlite" or "postgres".
std::unique_ptr<Shop> make_shop(const std::string& shape, const std::string& storage = "sqlite");

}  // namespace emporium::test
