// RedisCache without a Redis server: URL parsing, and how it behaves when
// nothing listens or the peer never answers. Against a real server:
// tests/integration/cache_test.cpp.
#include "cache/redis.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace emporium::cache {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(RedisUrl, Parses) {
  auto a = parse_redis_url("redis://127.0.0.1:56379");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 56379);
  EXPECT_EQ(a->db, 0);
  EXPECT_EQ(a->password, "");

  a = parse_redis_url("redis://cache.svc");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "cache.svc");
  EXPECT_EQ(a->port, 6379);

  a = parse_redis_url("redis://:s%40cret@h:1/3");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->user, "");
  EXPECT_EQ(a->password, "s@cret");
  EXPECT_EQ(a->host, "h");
  EXPECT_EQ(a->port, 1);
  EXPECT_EQ(a->db, 3);

  a = parse_redis_url("redis://app:pw@h/");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->user, "app");
  EXPECT_EQ(a->password, "pw");
  EXPECT_EQ(a->db, 0);

  a = parse_redis_url("redis://token@h");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->user, "");
  EXPECT_EQ(a->password, "token");

  a = parse_redis_url("redis://[::1]:7000/2");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(a->port, 7000);
  EXPECT_EQ(a->db, 2);

  for (const char* bad :
       {"", "redis:/h", "rediss://h", "http://h", "redis://", "redis://:1",
        "redis://h:", "redis://h:0", "redis://h:65536", "redis://h:1x", "redis://h/x",
        "redis://h/1/2", "redis://[::1", "redis://[::1]x", "redis://u:%zz@h", "redis://h h"}) {
    EXPECT_FALSE(parse_redis_url(bad)) << bad;
  }
}

// A port with nothing listening on it (bound, then closed).
std::uint16_t closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// A listener that accepts connections (in the kernel's backlog) and never
// answers: a hung server.
class Blackhole {
 public:
  Blackhole() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 64);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~Blackhole() { ::close(fd_); }
  std::uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

RedisOptions options(std::uint16_t port, std::chrono::milliseconds retry_after = 1'000ms) {
  RedisOptions o;
  o.address.host = "127.0.0.1";
  o.address.port = port;
  o.connect_timeout = 100ms;
  o.command_timeout = 100ms;
  o.retry_after = retry_after;
  return o;
}

TEST(RedisCache, NothingListeningMeansMissesAndNoOpsQuickly) {
  RedisCache c(options(closed_port()));
  EXPECT_EQ(c.backend(), "redis");
  EXPECT_FALSE(c.backing_off());
  const auto start = Clock::now();
  auto l = c.lookup("k");
  EXPECT_FALSE(l.value);
  EXPECT_TRUE(l.failed);
  EXPECT_TRUE(c.backing_off());
  EXPECT_FALSE(c.set("k", "v", 10s));
  EXPECT_FALSE(c.erase("k"));
  EXPECT_FALSE(c.incr("k"));
  EXPECT_FALSE(c.get("k"));
  EXPECT_LT(Clock::now() - start, 500ms);
}

TEST(RedisCache, AHungServerCostsOneDeadlineThenFailsFastUntilRetry) {
  Blackhole hung;
  RedisCache c(options(hung.port(), 400ms));
  auto start = Clock::now();
  EXPECT_TRUE(c.lookup("k").failed);  // connects, then the command times out
  const auto first = Clock::now() - start;
  EXPECT_GE(first, 90ms);
  EXPECT_LT(first, 600ms);
  // Backing off: no network at all.
  start = Clock::now();
  for (int i = 0; i < 100; ++i) {
    EXPECT_TRUE(c.lookup("k").failed);
    EXPECT_FALSE(c.set("k", "v", 1s));
  }
  EXPECT_LT(Clock::now() - start, 50ms);
  // After retry_after one caller probes again (and pays one deadline).
  std::this_thread::sleep_for(450ms);
  EXPECT_FALSE(c.backing_off());
  start = Clock::now();
  EXPECT_TRUE(c.lookup("k").failed);
  EXPECT_GE(Clock::now() - start, 90ms);
  EXPECT_TRUE(c.backing_off());
}

TEST(RedisCache, ConcurrentCallersDuringAnOutageAreNotSlowedDown) {
  RedisCache c(options(closed_port()));
  std::vector<std::thread> threads;
  std::atomic<int> slow{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        const auto start = Clock::now();
        c.lookup("k");
        if (Clock::now() - start > 200ms) {
          ++slow;
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_EQ(slow.load(), 0);
}

}  // namespace
}  // namespace emporium::cache
