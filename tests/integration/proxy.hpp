#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace emporium::test {

// A TCP port on 127.0.0.1 in front of `target` (also on 127.0.0.1), for
// faults between a process and a server it talks to. It refuses connections
// until open(); then each accepted connection is paired with a new
// connection to the target and bytes flow as the current mode says:
//   forward       both ways (the default);
//   hold          neither way: the peers see a server that never answers;
//   drop_replies  client -> target only; what the target sends is read and
//                 thrown away (a request arrives, its answer never does).
// The mode applies at once to every open connection.
class TcpProxy {
 public:
  enum class Mode { forward, hold, drop_replies };

  explicit TcpProxy(std::uint16_t target);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  std::uint16_t port() const { return port_; }
  void open();
  void set_mode(Mode mode) { mode_ = mode; }

 private:
  void accept_loop();
  void pipe(int client, int server);

  std::uint16_t target_;
  std::uint16_t port_ = 0;
  int listener_ = -1;  // bound from construction, listening from open()
  std::atomic<Mode> mode_{Mode::forward};
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::vector<std::thread> pipes_;  // touched by the acceptor only, until it is joined
};

}  // namespace emporium::test
