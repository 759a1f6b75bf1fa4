#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "http/message.hpp"
#include "http/server.hpp"

namespace emporium::test {

// The admin port (admin_listen, where /metrics is served) of the emporium
// process whose public port is `public_port`, as Process::wait_listening
// saw it. Throws std::runtime_error when no such process was seen.
std::uint16_t admin_port(std::uint16_t public_port);

// The emporium binary started as a child process on 127.0.0.1, port 0.
// Its stdout (JSON log lines) is captured; the port is read from the
// "listening" line. The destructor stops it if it is still running: SIGTERM,
// then SIGKILL if it has not exited 10 s later (a graceful exit writes the
// coverage counters and sanitizer reports).
class Process {
 public:
  // Starts `EMPORIUM_BINARY args...` with `env` added to a clean environment
  // (PATH and HOME kept). Does not wait for anything. `serve` gets
  // --admin-listen=127.0.0.1:0 unless args or env name an admin address,
  // so that processes started side by side never share the default 9090.
  Process(std::vector<std::string> args, std::map<std::string, std::string> env = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // Waits until a log line contains `needle`; returns that line, or nullopt
  // when the process exits or `timeout` passes first.
  std::optional<std::string> wait_for_line(const std::string& needle,
                                           std::chrono::milliseconds timeout);
  // Waits for the "listening" line and returns the port it names.
  std::uint16_t wait_listening(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // The port of the admin listener (admin_listen: /metrics), as logged
  // before the "listening" line; waits for that line when not yet seen.
  std::uint16_t wait_admin_listening(std::chrono::milliseconds timeout = std::chrono::seconds(10));

  void signal(int signo);
  // Waits for exit; returns the exit code, or -1 on timeout (process then
  // stopped as by the destructor).
  int wait_exit(std::chrono::milliseconds timeout);
  // Everything printed to stdout and stderr so far.
  const std::string& output();

 private:
  bool reap();
  // Unless it has exited: SIGTERM, up to 10 s for the exit, then SIGKILL.
  // Reaps the process.
  void terminate();
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::mutex mutex_;
  std::string output_;  // guarded by mutex_
  std::string snapshot_;
  std::size_t scanned_ = 0;
  std::uint16_t admin_port_ = 0;
  bool exited_ = false;
  int status_ = 0;
  std::thread reader_;  // drains stdout so the child never blocks on a full pipe
};

// A plain blocking HTTP request over libcurl, for checking a server from the
// outside. Returns nullopt when no response arrived.
std::optional<http::Response> request(const std::string& method, std::uint16_t port,
                                      const std::string& target, const std::string& body = {},
                                      const std::vector<std::string>& headers = {});

// As request(), from the local address `source` (127.0.0.2, ...; empty: any),
// so that a server's per-address limits see distinct clients.
std::optional<http::Response> request_from(const std::string& source, const std::string& method,
                                           std::uint16_t port, const std::string& target,
                                           const std::string& body = {},
                                           const std::vector<std::string>& headers = {});

// A raw TCP connection to 127.0.0.1:port with a receive timeout, for tests of
// limits, pipelining and stalls.
class RawConnection {
 public:
  explicit RawConnection(std::uint16_t port);
  ~RawConnection();
  bool connected() const { return fd_ >= 0; }
  bool send(const std::string& bytes);
  // Reads until `n` complete responses are seen (by Content-Length), the peer
  // closes, or `timeout` passes. Returns what was read.
  std::string read_responses(int n, std::chrono::milliseconds timeout);
  // True when the peer closed the connection within `timeout`.
  bool wait_closed(std::chrono::milliseconds timeout);

 private:
  int fd_ = -1;
  std::string pending_;
};

// An http::Server running in this process on 127.0.0.1 with its own router,
// for tests that need handlers the binary does not have (slow, failing).
class InProcessServer {
 public:
  InProcessServer(http::ServerOptions options, const std::function<void(http::Router&)>& routes);
  ~InProcessServer();  // shuts down and joins
  std::uint16_t port() const { return port_; }
  void shutdown() { server_->shutdown(); }
  // Waits until run() has returned; false when it has not within `timeout`.
  bool wait_stopped(std::chrono::milliseconds timeout);
  http::Readiness& readiness() { return readiness_; }
  obs::Registry& metrics() { return metrics_; }

 private:
  obs::Registry metrics_;
  http::Readiness readiness_;
  http::Router router_;
  std::unique_ptr<http::Pipeline> pipeline_;
  std::unique_ptr<http::Server> server_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopped_{false};
  std::thread thread_;
};

// The repository: EMPORIUM_SOURCE_DIR if set, else where this file lives.
std::filesystem::path repo_root();

// Runs `scripts/local-services.sh VERB DIR` with `env` set (which servers,
// which ports) and returns its stdout, the `export NAME=value` lines. A
// failure to run it or a non-zero exit is recorded as a test failure.
std::string local_services(const std::string& verb, const std::filesystem::path& dir,
                           const std::map<std::string, std::string>& env);

// `n` distinct TCP ports that nothing on 127.0.0.1 is bound to now, picked
// at random below the kernel's ephemeral range (ip_local_port_range), so no
// outgoing connection takes one while a test's own server is stopped and
// started again. For servers the tests start (scripts/local-services.sh).
std::vector<std::uint16_t> free_ports(int n);

// A server of a test's own (scripts/local-services.sh in a directory under
// EMPORIUM_TEST_SERVICES_DIR, on free_ports()), so stopping it disturbs no
// other test; stopped and removed by the destructor. Throws when it does not
// start.
class PrivateServer {
 public:
  static std::unique_ptr<PrivateServer> postgres();
  static std::unique_ptr<PrivateServer> rabbitmq();  // AMQP, TLS, distribution, epmd ports
  static std::unique_ptr<PrivateServer> redis();

  // `port_vars`: the script's port variables for `service`; `url_var`: the
  // variable whose export is its URL.
  PrivateServer(std::string service, const std::vector<std::string>& port_vars,
                const std::string& url_var);
  ~PrivateServer();
  PrivateServer(const PrivateServer&) = delete;
  PrivateServer& operator=(const PrivateServer&) = delete;

  // `scripts/local-services.sh VERB` (start, stop, restart) for this server.
  std::string run(const std::string& verb);
  const std::string& url() const { return url_; }
  std::uint16_t port() const;
  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  std::map<std::string, std::string> env_;
  std::string url_;
};

// Writes `text` to a new temporary file and returns its path.
std::string temp_file(const std::string& text, const std::string& suffix = "");
// Creates a new temporary directory and returns its path.
std::string temp_dir();

}  // namespace emporium::test
