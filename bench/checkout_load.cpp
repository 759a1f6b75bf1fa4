// checkout_load: drives Emporium's checkout journey from N threads for a
// fixed time and reports throughput and latency.
//
// Usage:
//   checkout_load --port P --threads N --seconds S --admin-password X
//                 [--admin-email E] [--sign-in-once] [--rate R] [--json FILE]
//
// Talks to http://127.0.0.1:P only (the gateway, or the all-in-one port).
// Setup: signs in as the admin (default admin@bench.test), creates one
// product (price 9.99, stock 1000000000) and registers N customers, one per
// thread. Then every thread repeats, until S seconds have passed since the
// start of the load:
//
//   POST /api/users/login                  (argon2id verify: CPU-heavy)
//   POST /api/cart/{userId}/items          {productId, quantity: 1}
//   POST /api/orders                       {userId, shippingAddress}
//
// With --sign-in-once each thread signs in once, before the load, and its
// journeys are add to cart -> order with that token (a shopper who is
// signed in already); the login step then shows those N sign-ins.
//
// With --rate R the threads together start at most R journeys per second
// (each thread one every N/R seconds, on a fixed schedule: a late journey
// starts at once, and the schedule is not shifted), for latency at a given
// load; without it every thread runs journeys back to back.
//
// After the load it reads the product's stock (GET /api/products/{id}) and
// checks it equals the start minus the orders placed; the check is printed
// ("stock check: ... ok" or "MISMATCH"), and a mismatch makes the exit
// status 3.
//
// A journey that started before the deadline is finished; the rates divide
// by the time actually elapsed. Any answer other than 2xx, and any call that
// got no answer, is a failure: it is counted, and the thread starts a new
// journey. Calls are never retried.
//
// Prints orders/s (orders placed), journeys/s (journeys ended, placed or
// failed), requests/s, the failure count per step, and p50/p99/max latency
// of each step. --json FILE also writes the numbers as one JSON object.
//
// Exit status: 0 once the load has run (whatever the failure count), 1 when
// setup fails, 2 on bad arguments, 3 when the stock check fails.

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "http/client.hpp"

namespace {

namespace json = boost::json;
namespace http = emporium::http;
using steady = std::chrono::steady_clock;

constexpr std::string_view kHost = "127.0.0.1";
constexpr std::int64_t kStock = 1'000'000'000;
constexpr std::string_view kPrice = "9.99";
constexpr std::string_view kCustomerPassword = "checkout-password-1";
constexpr std::string_view kAddress =
    R"({"street":"1 Bench Way","city":"Springfield","state":"IL","zipCode":"62701","country":"US"})";
constexpr std::size_t kMaxFailureSamples = 5;

struct Options {
  int port = 0;
  int threads = 0;
  int seconds = 0;
  std::string admin_email = "admin@bench.test";
  std::string admin_password;
  std::string json_path;
  bool sign_in_once = false;
  double rate = 0;  // journeys per second over all threads; 0: as fast as possible
};

constexpr std::string_view kUsage =
    "usage: checkout_load --port P --threads N --seconds S --admin-password X"
    " [--admin-email E] [--sign-in-once] [--rate R] [--json FILE]\n";

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "checkout_load: " << why << "\n" << kUsage;
  std::exit(2);
}

std::optional<int> parse_int(std::string_view s) {
  int v = 0;
  const auto* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, v);
  if (ec != std::errc{} || ptr != end) {
    return std::nullopt;
  }
  return v;
}

// Accepts "--name value" and "--name=value".
Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string name(arg);
    std::optional<std::string> value;
    if (const auto eq = arg.find('='); eq != std::string_view::npos) {
      name = std::string(arg.substr(0, eq));
      value = std::string(arg.substr(eq + 1));
    }
    if (name == "--help" || name == "-h") {
      std::cout << "checkout_load: drives the checkout journey (login, add to cart, order) on"
                   " 127.0.0.1 for a fixed time\n"
                << kUsage;
      std::exit(0);
    }
    if (name == "--sign-in-once" && !value) {
      o.sign_in_once = true;
      continue;
    }
    if (!value) {
      if (i + 1 >= argc) {
        usage("missing value for " + name);
      }
      value = argv[++i];
    }
    auto number = [&](int lo, int hi) {
      auto v = parse_int(*value);
      if (!v || *v < lo || *v > hi) {
        usage(name + " must be a whole number from " + std::to_string(lo) + " to " +
              std::to_string(hi));
      }
      return *v;
    };
    if (name == "--port") {
      o.port = number(1, 65535);
    } else if (name == "--threads") {
      o.threads = number(1, 1024);
    } else if (name == "--seconds") {
      o.seconds = number(1, 3600);
    } else if (name == "--admin-password") {
      o.admin_password = *value;
    } else if (name == "--admin-email") {
      o.admin_email = *value;
    } else if (name == "--rate") {
      o.rate = number(1, 1'000'000);
    } else if (name == "--json") {
      o.json_path = *value;
    } else {
      usage("unknown option " + name);
    }
  }
  if (o.port == 0 || o.threads == 0 || o.seconds == 0 || o.admin_password.empty()) {
    usage("--port, --threads, --seconds and --admin-password are required");
  }
  return o;
}

[[noreturn]] void setup_failed(const std::string& what) {
  std::cerr << "checkout_load: setup failed: " << what << "\n";
  std::exit(1);
}

// The steps of one journey, in order.
enum Step : std::size_t { kLogin, kAdd, kOrder, kSteps };
constexpr std::array<std::string_view, kSteps> kStepNames = {"login", "add to cart", "order"};
constexpr std::array<std::string_view, kSteps> kStepKeys = {"login", "add_to_cart", "order"};

struct StepStats {
  std::vector<double> latency_ms;  // every call that got an answer, any status
  std::int64_t failed = 0;         // non-2xx answers and calls without one
  std::int64_t no_answer = 0;      // of which: no answer (transport, timeout)
};

struct ThreadStats {
  std::array<StepStats, kSteps> steps;
  std::int64_t orders = 0;    // journeys that placed an order
  std::int64_t journeys = 0;  // journeys that ended, placed or failed
};

// Keeps the first few failures, for the log.
class FailureSamples {
 public:
  void add(std::string line) {
    std::lock_guard lock(mutex_);
    if (lines_.size() < kMaxFailureSamples) {
      lines_.push_back(std::move(line));
    }
  }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

http::CallOptions bearer(const std::string& token) {
  http::CallOptions o;
  if (!token.empty()) {
    o.headers.set("Authorization", "Bearer " + token);
  }
  return o;
}

// Parses `body` as a JSON object and returns its string member `key`.
std::optional<std::string> string_member(const std::string& body, std::string_view key) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) {
    return std::nullopt;
  }
  const auto* m = v.as_object().if_contains(key);
  if (m == nullptr || !m->is_string()) {
    return std::nullopt;
  }
  return std::string(m->get_string());
}

// One setup call: POST `path` and return the answer, or exit(1) when there is
// none or its status is not `expected`.
http::Response setup_post(http::Client& client, const std::string& path, const std::string& body,
                          int expected, const std::string& token = {}) {
  auto r = client.call("POST", path, body, bearer(token));
  if (!r) {
    setup_failed("POST " + path + ": " + r.error().message);
  }
  if (r->status != expected) {
    setup_failed("POST " + path + " answered " + std::to_string(r->status) + ": " + r->body);
  }
  return std::move(*r);
}

struct Customer {
  std::string id;
  std::string email;
};

std::string login_body(std::string_view email, std::string_view password) {
  return json::serialize(json::object{{"email", email}, {"password", password}});
}

// One customer's calls, timed into `stats`.
class Shopper {
 public:
  Shopper(http::Client& client, const Customer& customer, const std::string& product_id,
          FailureSamples& failures)
      : client_(client),
        failures_(failures),
        login_(login_body(customer.email, kCustomerPassword)),
        add_path_("/api/cart/" + customer.id + "/items"),
        add_body_(json::serialize(json::object{{"productId", product_id}, {"quantity", 1}})),
        order_body_(R"({"userId":")" + customer.id + R"(","shippingAddress":)" +
                    std::string(kAddress) + "}") {}

  // Signs in; the token, or nothing (a failure counted).
  std::optional<std::string> sign_in() {
    auto signed_in = step(kLogin, "/api/users/login", login_, {});
    if (!signed_in) {
      return std::nullopt;
    }
    auto token = string_member(signed_in->body, "token");
    if (!token) {
      ++stats_.steps[kLogin].failed;
      failures_.add("login: 2xx without a token: " + signed_in->body.substr(0, 300));
    }
    return token;
  }

  // Adds the product to the cart and places the order; true when placed.
  bool buy(const std::string& token) {
    return step(kAdd, add_path_, add_body_, token) &&
           step(kOrder, "/api/orders", order_body_, token);
  }

  ThreadStats& stats() { return stats_; }

 private:
  // One timed call; the answer when it is 2xx, nothing (and a failure counted) otherwise.
  std::optional<http::Response> step(Step s, const std::string& path, const std::string& body,
                                     const std::string& token) {
    const auto start = steady::now();
    auto r = client_.call("POST", path, body, bearer(token));
    const double ms = std::chrono::duration<double, std::milli>(steady::now() - start).count();
    auto& st = stats_.steps[s];
    if (!r) {
      ++st.failed;
      ++st.no_answer;
      failures_.add(std::string(kStepNames[s]) + ": no answer: " + r.error().message);
      return std::nullopt;
    }
    st.latency_ms.push_back(ms);
    if (r->status < 200 || r->status > 299) {
      ++st.failed;
      failures_.add(std::string(kStepNames[s]) + ": " + std::to_string(r->status) + " " +
                    r->body.substr(0, 300));
      return std::nullopt;
    }
    return std::move(*r);
  }

  http::Client& client_;
  FailureSamples& failures_;
  const std::string login_;
  const std::string add_path_;
  const std::string add_body_;
  const std::string order_body_;
  ThreadStats stats_;
};

// Runs journeys until `deadline`, one every `interval` when it is not zero;
// `token` is the sign-in to reuse, or empty to sign in on every journey.
ThreadStats run_journeys(Shopper& shopper, std::optional<std::string> token,
                         steady::time_point deadline, steady::duration interval) {
  auto next = steady::now();
  while (steady::now() < deadline) {
    if (interval != steady::duration::zero()) {
      std::this_thread::sleep_until(next);
      next += interval;
      if (steady::now() >= deadline) {
        break;
      }
    }
    ++shopper.stats().journeys;
    const auto signed_in = token ? token : shopper.sign_in();
    if (signed_in && shopper.buy(*signed_in)) {
      ++shopper.stats().orders;
    }
  }
  return std::move(shopper.stats());
}

// The product's stock now, or nothing when it cannot be read.
std::optional<std::int64_t> stock_of(http::Client& client, const std::string& product_id) {
  auto r = client.call("GET", "/api/products/" + product_id, "", {});
  if (!r || r->status != 200) {
    return std::nullopt;
  }
  boost::system::error_code ec;
  auto v = json::parse(r->body, ec);
  if (ec || !v.is_object()) {
    return std::nullopt;
  }
  const auto* stock = v.as_object().if_contains("stock");
  if (stock == nullptr || !stock->is_int64()) {
    return std::nullopt;
  }
  return stock->get_int64();
}

// Nearest-rank percentile of sorted `v` (0 when empty).
double percentile(const std::vector<double>& v, double p) {
  if (v.empty()) {
    return 0;
  }
  const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

}  // namespace

int main(int argc, char** argv) {
  const Options opt = parse_args(argc, argv);

  http::ClientOptions co;
  co.name = "checkout_load";
  co.base_url = "http://" + std::string(kHost) + ":" + std::to_string(opt.port);
  co.timeout = std::chrono::seconds(10);
  co.connect_timeout = std::chrono::seconds(2);
  co.max_attempts = 1;             // a failure is counted, never retried
  co.breaker_threshold = 1 << 30;  // a load generator keeps calling
  co.max_idle_connections = static_cast<std::size_t>(opt.threads) + 2;
  http::Client client(co);

  // ---- setup ----------------------------------------------------------------
  const auto setup_start = steady::now();
  const auto admin =
      setup_post(client, "/api/users/login", login_body(opt.admin_email, opt.admin_password), 200);
  const auto admin_token = string_member(admin.body, "token");
  if (!admin_token) {
    setup_failed("admin login answered without a token: " + admin.body);
  }

  const auto run_id = std::to_string(std::chrono::duration_cast<std::chrono::microseconds>(
                                         std::chrono::system_clock::now().time_since_epoch())
                                         .count());
  // The price goes out as the JSON number 9.99, written literally.
  const std::string product_body = R"({"name":"Checkout bench )" + run_id + R"(","price":)" +
                                   std::string(kPrice) + R"(,"category":"Bench","stock":)" +
                                   std::to_string(kStock) + "}";
  const auto product = setup_post(client, "/api/products", product_body, 201, *admin_token);
  const auto product_id = string_member(product.body, "id");
  if (!product_id) {
    setup_failed("product created without an id: " + product.body);
  }

  std::vector<Customer> customers;
  for (int i = 0; i < opt.threads; ++i) {
    const std::string email = "checkout-" + run_id + "-" + std::to_string(i) + "@bench.test";
    const auto reg =
        setup_post(client, "/api/users/register",
                   json::serialize(json::object{
                       {"email", email}, {"password", kCustomerPassword}, {"name", "Bench"}}),
                   201);
    const auto id = string_member(reg.body, "id");
    if (!id) {
      setup_failed("registration answered without an id: " + reg.body);
    }
    customers.push_back({*id, email});
  }
  const double setup_s = std::chrono::duration<double>(steady::now() - setup_start).count();
  std::cout << "checkout_load: " << kHost << ":" << opt.port << ", " << opt.threads << " threads, "
            << opt.seconds << " s\n"
            << "setup: admin signed in, product " << *product_id << " (price " << kPrice
            << ", stock " << kStock << "), " << opt.threads << " customers registered, in "
            << std::fixed;
  std::cout.precision(2);
  std::cout << setup_s << " s\n" << std::flush;

  // ---- load -----------------------------------------------------------------
  FailureSamples failures;
  std::vector<Shopper> shoppers;
  shoppers.reserve(customers.size());
  std::vector<std::optional<std::string>> tokens(customers.size());
  for (std::size_t i = 0; i < customers.size(); ++i) {
    shoppers.emplace_back(client, customers[i], *product_id, failures);
    if (opt.sign_in_once) {
      tokens[i] = shoppers.back().sign_in();
      if (!tokens[i]) {
        setup_failed("customer " + customers[i].email + " could not sign in");
      }
    }
  }
  const auto interval =
      opt.rate > 0 ? std::chrono::duration_cast<steady::duration>(
                         std::chrono::duration<double>(static_cast<double>(opt.threads) / opt.rate))
                   : steady::duration::zero();
  std::cout << "journeys: "
            << (opt.sign_in_once ? "add to cart -> order, signed in once"
                                 : "login -> add to cart -> order")
            << "; "
            << (opt.rate > 0 ? "at most " + std::to_string(opt.rate) + " per s"
                             : std::string("back to back"))
            << "\n"
            << std::flush;
  std::vector<ThreadStats> per_thread(static_cast<std::size_t>(opt.threads));
  const auto start = steady::now();
  const auto deadline = start + std::chrono::seconds(opt.seconds);
  {
    std::vector<std::jthread> workers;
    for (std::size_t i = 0; i < per_thread.size(); ++i) {
      workers.emplace_back(
          [&, i] { per_thread[i] = run_journeys(shoppers[i], tokens[i], deadline, interval); });
    }
  }
  const double elapsed_s = std::chrono::duration<double>(steady::now() - start).count();
  const auto stock_after = stock_of(client, *product_id);

  // ---- report ---------------------------------------------------------------
  ThreadStats total;
  for (auto& t : per_thread) {
    total.orders += t.orders;
    total.journeys += t.journeys;
    for (std::size_t s = 0; s < kSteps; ++s) {
      auto& into = total.steps[s];
      into.failed += t.steps[s].failed;
      into.no_answer += t.steps[s].no_answer;
      into.latency_ms.insert(into.latency_ms.end(), t.steps[s].latency_ms.begin(),
                             t.steps[s].latency_ms.end());
    }
  }
  std::int64_t requests = 0;
  std::int64_t errors = 0;
  std::int64_t no_answer = 0;
  for (auto& st : total.steps) {
    std::sort(st.latency_ms.begin(), st.latency_ms.end());
    requests += static_cast<std::int64_t>(st.latency_ms.size()) + st.no_answer;
    errors += st.failed;
    no_answer += st.no_answer;
  }
  const auto rate = [&](std::int64_t n) { return static_cast<double>(n) / elapsed_s; };

  char line[256];
  std::cout << "elapsed: " << elapsed_s << " s\n";
  std::snprintf(line, sizeof line, "orders placed: %lld (%.2f orders/s)\n",
                static_cast<long long>(total.orders), rate(total.orders));
  std::cout << line;
  std::snprintf(line, sizeof line, "journeys ended: %lld (%.2f journeys/s; %s)\n",
                static_cast<long long>(total.journeys), rate(total.journeys),
                opt.sign_in_once ? "add to cart -> order" : "login -> add to cart -> order");
  std::cout << line;
  std::snprintf(line, sizeof line, "requests: %lld (%.2f req/s)\n",
                static_cast<long long>(requests), rate(requests));
  std::cout << line;
  std::snprintf(line, sizeof line,
                "errors: %lld (login %lld, add to cart %lld, order %lld; no answer %lld)\n",
                static_cast<long long>(errors), static_cast<long long>(total.steps[kLogin].failed),
                static_cast<long long>(total.steps[kAdd].failed),
                static_cast<long long>(total.steps[kOrder].failed),
                static_cast<long long>(no_answer));
  std::cout << line;
  std::snprintf(line, sizeof line, "%-14s %8s %10s %10s %10s\n", "latency (ms)", "calls", "p50",
                "p99", "max");
  std::cout << line;
  for (std::size_t s = 0; s < kSteps; ++s) {
    const auto& v = total.steps[s].latency_ms;
    std::snprintf(line, sizeof line, "%-14s %8zu %10.2f %10.2f %10.2f\n",
                  std::string(kStepNames[s]).c_str(), v.size(), percentile(v, 0.50),
                  percentile(v, 0.99), v.empty() ? 0.0 : v.back());
    std::cout << line;
  }
  std::snprintf(line, sizeof line, "order POST latency: p50 %.2f ms, p99 %.2f ms\n",
                percentile(total.steps[kOrder].latency_ms, 0.50),
                percentile(total.steps[kOrder].latency_ms, 0.99));
  std::cout << line;
  const bool stock_ok = stock_after && *stock_after == kStock - total.orders;
  std::snprintf(
      line, sizeof line, "stock check: start %lld, orders %lld, expected %lld, read %s: %s\n",
      static_cast<long long>(kStock), static_cast<long long>(total.orders),
      static_cast<long long>(kStock - total.orders),
      stock_after ? std::to_string(*stock_after).c_str() : "nothing", stock_ok ? "ok" : "MISMATCH");
  std::cout << line << std::flush;
  for (const auto& f : failures.lines()) {
    std::cerr << "checkout_load: failure sample: " << f << "\n";
  }

  if (!opt.json_path.empty()) {
    json::object steps;
    for (std::size_t s = 0; s < kSteps; ++s) {
      const auto& st = total.steps[s];
      steps[kStepKeys[s]] =
          json::object{{"calls", st.latency_ms.size() + static_cast<std::size_t>(st.no_answer)},
                       {"failed", st.failed},
                       {"no_answer", st.no_answer},
                       {"p50_ms", percentile(st.latency_ms, 0.50)},
                       {"p99_ms", percentile(st.latency_ms, 0.99)},
                       {"max_ms", st.latency_ms.empty() ? 0.0 : st.latency_ms.back()}};
    }
    json::object out{
        {"port", opt.port},
        {"threads", opt.threads},
        {"seconds", opt.seconds},
        {"elapsed_s", elapsed_s},
        {"setup_s", setup_s},
        {"product_id", *product_id},
        {"orders", total.orders},
        {"orders_per_s", rate(total.orders)},
        {"journeys", total.journeys},
        {"journeys_per_s", rate(total.journeys)},
        {"requests", requests},
        {"requests_per_s", rate(requests)},
        {"errors", errors},
        {"steps", std::move(steps)},
        {"sign_in_once", opt.sign_in_once},
        {"rate_limit_per_s", opt.rate},
        {"stock_start", kStock},
        {"stock_after", stock_after ? json::value(*stock_after) : json::value(nullptr)},
        {"stock_ok", stock_ok}};
    std::ofstream f(opt.json_path);
    f << json::serialize(out) << "\n";
    if (!f) {
      std::cerr << "checkout_load: could not write " << opt.json_path << "\n";
    }
  }
  return stock_ok ? 0 : 3;
}
