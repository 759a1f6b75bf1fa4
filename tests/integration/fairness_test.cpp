// Connection fairness and load shedding, over real sockets from several
// 127.0.0.x source addresses: the per-client connection cap, the header
// timeout, idle keep-alive eviction near max_connections, the bounded
// blocking queue with per-class concurrency limits, and ops routes that never
// wait behind shop traffic. Every socket is closed and every wait bounded.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <future>
#include <regex>
#include <thread>

#include "mailbox.hpp"
#include "support.hpp"

namespace emporium::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// One response as read off a socket.
struct Reply {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;
};

// A TCP connection from `source` (a 127.0.0.x address) to 127.0.0.1:port.
// Blocking connect unless `nonblocking`, in which case the connect is only
// started and `fd()` is polled for it.
class Client {
 public:
  Client(const std::string& source, std::uint16_t port, bool nonblocking = false) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
    if (fd_ < 0) {
      return;
    }
    sockaddr_in from{};
    from.sin_family = AF_INET;
    ::inet_pton(AF_INET, source.c_str(), &from.sin_addr);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool bound = ::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from) == 0;
    const int rc = bound ? ::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) : -1;
    if (!bound || (rc != 0 && !(nonblocking && errno == EINPROGRESS))) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~Client() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  Client(Client&& o) noexcept : fd_(std::exchange(o.fd_, -1)), pending_(std::move(o.pending_)) {}
  Client& operator=(Client&&) = delete;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  int fd() const { return fd_; }
  bool connected() const { return fd_ >= 0; }

  bool send(std::string_view bytes) const {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        return false;
      }
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Reads one response (its body by Content-Length); nullopt when the peer
  // closed first or `timeout` passed.
  std::optional<Reply> read_one(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      if (auto r = take()) {
        return r;
      }
      if (fill(deadline) != Read::data) {
        return std::nullopt;
      }
    }
  }

  // Sends `request` and reads its response.
  std::optional<Reply> exchange(std::string_view request, std::chrono::milliseconds timeout) {
    if (!send(request)) {
      return std::nullopt;
    }
    return read_one(timeout);
  }

  // True when the peer closes (or resets) the connection within `timeout`.
  bool wait_closed(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      switch (fill(deadline)) {
        case Read::data:
          continue;
        case Read::closed:
          return true;
        case Read::timeout:
          return false;
      }
    }
  }

 private:
  enum class Read { data, closed, timeout };

  // Reads what arrives by `deadline`: data, the peer's close (or reset), or
  // nothing.
  Read fill(Clock::time_point deadline) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      return Read::timeout;
    }
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      return Read::timeout;
    }
    char buf[16384];
    const ssize_t got = ::recv(fd_, buf, sizeof buf, 0);
    if (got <= 0) {
      return Read::closed;
    }
    pending_.append(buf, static_cast<std::size_t>(got));
    return Read::data;
  }

  // A complete response off the front of what was read, if there is one.
  std::optional<Reply> take() {
    const auto end = pending_.find("\r\n\r\n");
    if (end == std::string::npos) {
      return std::nullopt;
    }
    std::size_t length = 0;
    static const std::regex kLength("\r\ncontent-length: *([0-9]+)", std::regex::icase);
    std::smatch m;
    const std::string head = pending_.substr(0, end);
    if (std::regex_search(head, m, kLength)) {
      length = std::stoul(m[1].str());
    }
    if (pending_.size() < end + 4 + length) {
      return std::nullopt;
    }
    Reply r;
    r.head = head;
    r.status = std::atoi(head.c_str() + 9);  // "HTTP/1.1 200"
    r.body = pending_.substr(end + 4, length);
    pending_.erase(0, end + 4 + length);
    return r;
  }

  int fd_ = -1;
  std::string pending_;
};

std::string get(const std::string& target) {
  return "GET " + target + " HTTP/1.1\r\nHost: shop\r\n\r\n";
}

std::string post(const std::string& target, const std::string& body) {
  return "POST " + target +
         " HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

// The value of one series in Prometheus text (0 when absent).
double metric(const std::string& text, const std::string& series) {
  const auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) {
    return 0;
  }
  return std::stod(text.substr(at + series.size() + 2));
}

// Where the server listening on `port` serves /metrics: the binary's admin
// listener, or the same port for a server of this process's own.
std::uint16_t metrics_port(std::uint16_t port) {
  try {
    return admin_port(port);
  } catch (const std::runtime_error&) {
    return port;
  }
}

double metric_from(std::uint16_t port, const std::string& series) {
  Client c("127.0.0.1", metrics_port(port));
  auto r = c.exchange(get("/metrics"), 5s);
  if (!r || r->status != 200) {
    ADD_FAILURE() << "no metrics from the server on port " << port;
    return -1;
  }
  return metric("\n" + r->body, series);
}

// Raises this process's open-files soft limit to its hard limit (the
// server it starts inherits it); returns the limit now.
rlim_t raise_open_files() {
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
  getrlimit(RLIMIT_NOFILE, &lim);
  return lim.rlim_cur;
}

// Opens `n` connections from `source` that send nothing, connecting in
// batches, by `deadline`. Returns those whose connect completed.
std::vector<Client> open_idle(const std::string& source, std::uint16_t port, int n,
                              Clock::time_point deadline) {
  std::vector<Client> open;
  constexpr int kBatch = 500;
  for (int done = 0; done < n && Clock::now() < deadline; done += kBatch) {
    std::vector<Client> batch;
    for (int k = 0; k < std::min(kBatch, n - done); ++k) {
      batch.emplace_back(source, port, true);
    }
    std::vector<pollfd> fds;
    for (const auto& c : batch) {
      fds.push_back(pollfd{c.fd(), POLLOUT, 0});
    }
    std::size_t ready = 0;
    while (ready < fds.size() && Clock::now() < deadline) {
      ::poll(fds.data(), fds.size(), 100);
      ready = 0;
      for (auto& p : fds) {
        ready += (p.revents != 0 || p.fd < 0) ? 1 : 0;
        if (p.revents != 0) {
          p.fd = -p.fd - 1;  // done: poll skips negative descriptors
        }
      }
    }
    for (auto& c : batch) {
      int err = 0;
      socklen_t len = sizeof err;
      if (c.connected() && ::getsockopt(c.fd(), SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
          err == 0) {
        open.push_back(std::move(c));
      }
    }
  }
  return open;
}

std::vector<std::string> serve_args(const std::string& data_dir) {
  return {"serve", "--listen=127.0.0.1:0", "--data-dir=" + data_dir, "--io-threads=2",
          "--storefront=false"};
}

// --- Connection fairness ----------------------------------------------------

TEST(ServerFairness, TenThousandIdleSocketsFromOneAddressLeaveOthersServed) {
  constexpr int kFlood = 10'000;
  const rlim_t limit = raise_open_files();
  ASSERT_GE(limit, static_cast<rlim_t>(kFlood + 512))
      << "the open-files hard limit (ulimit -Hn) must allow " << kFlood << " sockets";
  auto args = serve_args(temp_dir());
  args.emplace_back("--header-timeout=60s");  // the cap alone must do it
  Process p(args);
  const auto port = p.wait_listening();

  const auto started = Clock::now();
  auto flood = open_idle("127.0.0.2", port, kFlood, started + 60s);
  const double flood_ms = ms_since(started);
  ASSERT_EQ(flood.size(), static_cast<std::size_t>(kFlood)) << "connects did not complete";

  // With every flood socket still open, a client from another address.
  const auto asked = Clock::now();
  Client other("127.0.0.3", port);
  ASSERT_TRUE(other.connected());
  auto res = other.exchange(get("/api/products/categories"), 5s);
  const double served_ms = ms_since(asked);
  ASSERT_TRUE(res) << "client from 127.0.0.3 not served";
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_LT(served_ms, 1000.0);
  std::printf("[ figures ] %d idle sockets opened in %.0f ms; a new client served in %.1f ms\n",
              kFlood, flood_ms, served_ms);

  // Only the cap's worth is held; the rest were refused and counted.
  const auto deadline = Clock::now() + 10s;
  double refused = 0;
  while ((refused = metric_from(port, R"(emporium_http_rejected_total{reason="client_limit"})")) <
             kFlood - 256 &&
         Clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(refused, kFlood - 256);
  EXPECT_LE(metric_from(port, "emporium_http_connections_open"), 256 + 2);
  flood.clear();
}

TEST(ServerFairness, SilentConnectionIsClosedAtHeaderTimeoutAndKeepAliveIsNot) {
  auto args = serve_args(temp_dir());
  args.emplace_back("--header-timeout=1s");
  Process p(args);
  const auto port = p.wait_listening();

  Client kept("127.0.0.4", port);
  auto first = kept.exchange(get("/healthz"), 5s);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 200);

  const auto start = Clock::now();
  Client silent("127.0.0.5", port);
  ASSERT_TRUE(silent.connected());
  EXPECT_TRUE(silent.wait_closed(5s)) << "silent connection held past the header timeout";
  const double held_ms = ms_since(start);
  EXPECT_GE(held_ms, 900.0);
  EXPECT_LT(held_ms, 2500.0);
  std::printf("[ figures ] silent connection closed after %.0f ms (header_timeout 1s)\n", held_ms);

  // The keep-alive connection waits for its next request under the idle
  // timeout (60 s), not the header timeout: it is still served.
  std::this_thread::sleep_for(std::max(
      0ms, 1500ms - std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start)));
  auto second = kept.exchange(get("/healthz"), 5s);
  ASSERT_TRUE(second) << "keep-alive connection closed at the header timeout";
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(metric_from(port, R"(emporium_http_rejected_total{reason="header_timeout"})"), 1);
}

http::ServerOptions fairness_options() {
  http::ServerOptions o;
  o.io_threads = 2;
  o.blocking_threads = 4;
  o.read_timeout = 1s;
  o.header_timeout = 5s;
  o.idle_timeout = 60s;
  o.drain_timeout = 2s;
  return o;
}

void item_route(http::Router& r) {
  r.add("GET", "/items/{id}", [](http::Request& req) {
    return http::Response::json(200, "{\"id\":\"" + std::string(req.param("id")) + "\"}");
  });
}

TEST(ServerFairness, SlowlorisIsCutAtTheReadTimeout) {
  InProcessServer server(fairness_options(), item_route);
  Client slow("127.0.0.6", server.port());
  ASSERT_TRUE(slow.connected());
  const auto start = Clock::now();
  ASSERT_TRUE(slow.send("GET /items/1 HTTP/1.1\r\n"));
  // Then headers a byte at a time, each well inside any per-read timeout,
  // for longer than the read timeout allows the whole request.
  const std::string headers = "Host: shop\r\nX-Padding: " + std::string(200, 'p') + "\r\n\r\n";
  bool cut = false;
  for (char c : headers) {
    if (!slow.send(std::string_view(&c, 1)) || slow.wait_closed(50ms)) {
      cut = true;
      break;
    }
  }
  const double held_ms = ms_since(start);
  EXPECT_TRUE(cut || slow.wait_closed(2s)) << "slowloris was never cut";
  EXPECT_GE(held_ms, 900.0);
  EXPECT_LT(held_ms, 2000.0);
  // The stream closes the socket when the deadline passes; the session
  // counts the cut when it next runs, which may come after the client has
  // seen the close.
  EXPECT_TRUE(eventually(
      [&] {
        return server.metrics().render().find(
                   "emporium_http_rejected_total{reason=\"read_timeout\"} 1") != std::string::npos;
      },
      2s))
      << server.metrics().render();
  // Others are served meanwhile and after.
  Client other("127.0.0.7", server.port());
  auto res = other.exchange(get("/items/2"), 2s);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST(ServerFairness, NearMaxConnectionsTheLongestIdleKeepAliveIsClosedForANewClient) {
  constexpr int kMax = 20;
  auto opts = fairness_options();
  opts.max_connections = kMax;
  InProcessServer server(opts, item_route);
  std::vector<Client> idle;
  for (int k = 0; k < kMax; ++k) {
    auto& c = idle.emplace_back("127.0.0.8", server.port());
    auto r = c.exchange(get("/items/" + std::to_string(k)), 2s);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200);
  }
  // All kMax slots are held by idle keep-alive connections.
  const auto asked = Clock::now();
  Client fresh("127.0.0.9", server.port());
  auto res = fresh.exchange(get("/items/new"), 2s);
  const double served_ms = ms_since(asked);
  ASSERT_TRUE(res) << "new client not served at max_connections";
  EXPECT_EQ(res->status, 200);
  EXPECT_LT(served_ms, 1000.0);
  // The oldest idle one made room; the newest is still open.
  EXPECT_TRUE(idle.front().wait_closed(2s)) << "longest idle connection not closed";
  auto last = idle.back().exchange(get("/items/last"), 2s);
  ASSERT_TRUE(last) << "the newest idle connection was closed instead";
  EXPECT_EQ(last->status, 200);
  const auto text = server.metrics().render();
  EXPECT_NE(text.find("emporium_http_rejected_total{reason=\"idle_evicted\"}"), std::string::npos)
      << text;
}

TEST(ServerFairness, PerClientCapRefusesOnlyThatAddress) {
  auto opts = fairness_options();
  opts.max_connections_per_client = 3;
  InProcessServer server(opts, item_route);
  std::vector<Client> held;
  for (int k = 0; k < 3; ++k) {
    auto& c = held.emplace_back("127.0.0.10", server.port());
    ASSERT_TRUE(c.exchange(get("/items/a"), 2s));
  }
  Client fourth("127.0.0.10", server.port());
  EXPECT_TRUE(fourth.wait_closed(2s)) << "a fourth connection from one address was kept";
  Client other("127.0.0.11", server.port());
  auto res = other.exchange(get("/items/b"), 2s);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  // A closed connection gives its place back.
  held.pop_back();
  std::this_thread::sleep_for(200ms);
  Client again("127.0.0.10", server.port());
  auto back = again.exchange(get("/items/c"), 2s);
  ASSERT_TRUE(back) << "the address's count was not given back";
  EXPECT_EQ(back->status, 200);
  EXPECT_NE(
      server.metrics().render().find("emporium_http_rejected_total{reason=\"client_limit\"} 1"),
      std::string::npos);
}

// --- Load shedding ----------------------------------------------------------

TEST(ServerShedding, OverAClassLimitOrAFullQueueA503AtOnceWhileOpsAnswer) {
  auto opts = fairness_options();
  opts.blocking_threads = 2;
  opts.blocking_queue = 1;
  opts.class_limits[static_cast<std::size_t>(http::RouteClass::sign_in)] = 1;
  std::atomic<int> running{0};
  InProcessServer server(opts, [&](http::Router& r) {
    auto slow = [&](http::Request&) {
      running.fetch_add(1);
      std::this_thread::sleep_for(1500ms);
      running.fetch_sub(1);
      return http::Response::json(200, R"({"ok":true})");
    };
    r.add("POST", "/api/users/login", slow);
    r.add("GET", "/slow", slow);
  });
  // One sign-in runs; a second is over its class's limit.
  Client a("127.0.0.12", server.port());
  ASSERT_TRUE(a.send(post("/api/users/login", "{}")));
  while (running.load() < 1) {
    std::this_thread::sleep_for(5ms);
  }
  Client b("127.0.0.13", server.port());
  auto start = Clock::now();
  auto shed = b.exchange(post("/api/users/login", "{}"), 2s);
  ASSERT_TRUE(shed);
  EXPECT_EQ(shed->status, 503);
  EXPECT_LT(ms_since(start), 200.0) << "the 503 waited";
  EXPECT_NE(shed->head.find("Retry-After: 1"), std::string::npos) << shed->head;
  EXPECT_NE(shed->head.find("application/problem+json"), std::string::npos) << shed->head;
  EXPECT_NE(shed->body.find("\"status\":503"), std::string::npos) << shed->body;

  // Sign-ins run on threads of their own: the blocking pool's two threads
  // and its one queue place fill with reads; the next read finds the queue
  // full.
  Client c("127.0.0.14", server.port());
  Client d("127.0.0.15", server.port());
  Client e("127.0.0.16", server.port());
  ASSERT_TRUE(c.send(get("/slow")));
  ASSERT_TRUE(d.send(get("/slow")));
  while (running.load() < 3) {
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_TRUE(e.send(get("/slow")));
  std::this_thread::sleep_for(100ms);
  Client f("127.0.0.17", server.port());
  start = Clock::now();
  auto full = f.exchange(get("/slow"), 2s);
  ASSERT_TRUE(full);
  EXPECT_EQ(full->status, 503);
  EXPECT_LT(ms_since(start), 200.0);

  // Probes and scrapes are answered at once, the pool being full.
  for (const char* ops : {"/readyz", "/metrics", "/healthz"}) {
    Client probe("127.0.0.18", server.port());
    start = Clock::now();
    auto r = probe.exchange(get(ops), 2s);
    ASSERT_TRUE(r) << ops;
    EXPECT_EQ(r->status, 200) << ops;
    EXPECT_LT(ms_since(start), 200.0) << ops << " waited behind shop traffic";
  }
  // The admitted requests complete.
  for (Client* done : {&a, &c, &d, &e}) {
    auto r = done->read_one(5s);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
  const auto text = server.metrics().render();
  EXPECT_NE(text.find("emporium_http_rejected_total{reason=\"class_limit\"} 1"), std::string::npos)
      << text;
  EXPECT_NE(text.find("emporium_http_rejected_total{reason=\"queue_full\"} 1"), std::string::npos);
  EXPECT_NE(text.find("emporium_http_shed_total{class=\"sign_in\"} 1"), std::string::npos);
  EXPECT_NE(text.find("emporium_http_shed_total{class=\"read\"} 1"), std::string::npos);
  EXPECT_NE(text.find("route=\"/api/users/login\",method=\"POST\",status=\"503\"} 1"),
            std::string::npos)
      << "the 503 is not counted under its route";
}

// The 99th percentile of `samples` (milliseconds).
double p99(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  return samples[std::min(samples.size() - 1, samples.size() * 99 / 100)];
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Up to `n` catalog reads in turn on one keep-alive connection, for
// `budget` at most; their latencies.
std::vector<double> catalog_reads(std::uint16_t port, int n,
                                  std::chrono::milliseconds budget = 4s) {
  std::vector<double> out;
  Client c("127.0.0.1", port);
  const auto deadline = Clock::now() + budget;
  for (int k = 0; k < n && Clock::now() < deadline; ++k) {
    const auto start = Clock::now();
    auto r =
        c.exchange(get(k % 2 == 0 ? "/api/products?limit=20" : "/api/products/categories"), 5s);
    if (!r || r->status != 200) {
      ADD_FAILURE() << "catalog read failed: " << (r ? r->body : "no answer");
      break;
    }
    out.push_back(ms_since(start));
  }
  return out;
}

// Wrong-password sign-ins from 127.0.0.20-27, each flooder on its own
// keep-alive connection, sending the next the moment an answer comes.
class LoginFlood {
 public:
  LoginFlood(std::uint16_t port, int flooders, const std::string& email) {
    const std::string body = R"({"email":")" + email + R"(","password":"wrong-password-123"})";
    for (int k = 0; k < flooders; ++k) {
      threads_.emplace_back([this, port, k, body] {
        Client c("127.0.0." + std::to_string(20 + (k % 8)), port);
        while (!stop_.load()) {
          auto r = c.exchange(post("/api/users/login", body), 5s);
          if (!r) {
            return;
          }
          (r->status == 503 ? shed_ : r->status == 401 ? refused_ : other_).fetch_add(1);
          if (r->status == 503) {
            // Not Retry-After's second: 50 attempts a second per connection,
            // 1,600 for the flood, while the test's own threads stay
            // within the server's share of the two cores.
            std::this_thread::sleep_for(20ms);
          }
        }
      });
    }
  }
  ~LoginFlood() { stop(); }
  LoginFlood(const LoginFlood&) = delete;
  LoginFlood& operator=(const LoginFlood&) = delete;
  void stop() {
    stop_.store(true);
    for (auto& t : threads_) {
      if (t.joinable()) {
        t.join();
      }
    }
  }
  int shed() const { return shed_.load(); }
  int refused() const { return refused_.load(); }
  int other() const { return other_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> shed_{0}, refused_{0}, other_{0};
  std::vector<std::thread> threads_;
};

// The flood's sign-ins all name one account with wrong passwords; the
// account's backoff (docs/rate-limits.md) would answer them 429 before any
// argon2id runs, so it is set out of reach here: this measures shedding alone.
TEST(ServerShedding, CatalogReadsKeepTheirLatencyDuringALoginFlood) {
  auto args = serve_args(temp_dir());
  args.emplace_back("--sign-in-backoff-after=1000");
  Process p(args);
  const auto port = p.wait_listening();
  Client setup("127.0.0.1", port);
  const std::string email = "flooded@example.com";
  auto reg = setup.exchange(
      post("/api/users/register",
           R"({"email":")" + email + R"(","password":"Correct-Horse-7731","name":"F"})"),
      10s);
  ASSERT_TRUE(reg);
  ASSERT_EQ(reg->status, 201) << reg->body;
  catalog_reads(port, 100);  // warm the cache and the connection

  constexpr int kRounds = 5;
  constexpr int kReads = 400;
  constexpr int kFlooders = 32;
  // A measurement on a shared two-core machine may be spoilt by a neighbour
  // (another test starting a server): up to three are taken, and the first
  // within bounds counts. Without shedding every one is hundreds of times over.
  constexpr int kAttempts = 3;
  double q = 0, f = 0;
  int shed = 0, refused = 0, other = 0;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    std::vector<double> quiet, flooded;
    for (int round = 0; round < kRounds; ++round) {
      quiet.push_back(p99(catalog_reads(port, kReads)));
      LoginFlood flood(port, kFlooders, email);
      std::this_thread::sleep_for(300ms);  // the flood under way
      flooded.push_back(p99(catalog_reads(port, kReads)));
      flood.stop();
      shed += flood.shed();
      refused += flood.refused();
      other += flood.other();
    }
    q = median(quiet);
    f = median(flooded);
    std::printf(
        "[ figures ] catalog p99 quiet %.2f ms, during a %d-connection login flood %.2f ms "
        "(%.2fx); sign-ins answered 401: %d, shed 503: %d\n",
        q, kFlooders, f, f / q, refused, shed);
    // A quiet p99 under 1 ms is taken as 1 ms: below that, one scheduling
    // delay on a shared two-core machine is more than 3x.
    if (f <= 3 * std::max(q, 1.0)) {
      break;
    }
  }
  EXPECT_GT(shed, 0) << "the flood was never shed";
  EXPECT_GT(refused, 0) << "no sign-in was ever checked";
  EXPECT_EQ(other, 0);
  EXPECT_LE(f, 3 * std::max(q, 1.0)) << "catalog p99 quiet " << q << " ms, flooded " << f << " ms";
}

}  // namespace
}  // namespace emporium::test
