#include "proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

namespace emporium::test {
namespace {

sockaddr_in loopback(std::uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return a;
}

bool write_all(int fd, const char* data, ssize_t n) {
  for (ssize_t done = 0; done < n;) {
    // MSG_NOSIGNAL: a peer that hung up is an error here, not SIGPIPE.
    const auto w = ::send(fd, data + done, static_cast<std::size_t>(n - done), MSG_NOSIGNAL);
    if (w <= 0) {
      return false;
    }
    done += w;
  }
  return true;
}

}  // namespace

TcpProxy::TcpProxy(std::uint16_t target) : target_(target) {
  // Bound but not listening: the port stays ours, and connecting to it is
  // refused until open().
  listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a = loopback(0);
  socklen_t len = sizeof a;
  if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (listener_ >= 0) {
      ::close(listener_);
    }
    throw std::runtime_error("cannot reserve a port");
  }
  port_ = ntohs(a.sin_port);
}

TcpProxy::~TcpProxy() {
  stop_ = true;
  if (acceptor_.joinable()) {
    acceptor_.join();
  }
  for (auto& t : pipes_) {
    t.join();
  }
  if (listener_ >= 0) {
    ::close(listener_);
  }
}

void TcpProxy::open() {
  if (::listen(listener_, 16) != 0) {
    throw std::runtime_error("cannot listen on the reserved port");
  }
  acceptor_ = std::thread([this] { accept_loop(); });
}

void TcpProxy::accept_loop() {
  while (!stop_) {
    pollfd p{listener_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) {
      continue;
    }
    const int client = ::accept(listener_, nullptr, nullptr);
    if (client < 0) {
      continue;
    }
    const int server = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a = loopback(target_);
    if (::connect(server, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(client);
      ::close(server);
      continue;
    }
    pipes_.emplace_back([this, client, server] { pipe(client, server); });
  }
}

void TcpProxy::pipe(int client, int server) {
  char buf[16384];
  bool open = true;
  while (open && !stop_) {
    const Mode mode = mode_.load();
    if (mode == Mode::hold) {
      // Nothing is read, so both peers' writes sit in buffers; a hang-up is
      // noticed once the mode changes.
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    pollfd p[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
    if (::poll(p, 2, 50) <= 0) {
      continue;
    }
    for (int i = 0; i < 2 && open; ++i) {
      if ((p[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
        continue;
      }
      const auto n = ::read(p[i].fd, buf, sizeof buf);
      if (n <= 0) {
        open = false;
        break;
      }
      const bool reply = i == 1;
      if (reply && mode == Mode::drop_replies) {
        continue;
      }
      open = write_all(reply ? client : server, buf, n);
    }
  }
  ::close(client);
  ::close(server);
}

}  // namespace emporium::test
