#include "support.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <stdexcept>

#include "core/ids.hpp"

extern char** environ;

namespace emporium::test {

using clock = std::chrono::steady_clock;

// How long terminate() waits after SIGTERM before it sends SIGKILL.
constexpr auto kTerminateGrace = std::chrono::seconds(10);

Process::Process(std::vector<std::string> args, std::map<std::string, std::string> env) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);

  std::vector<std::string> argv_s{EMPORIUM_BINARY};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  const bool admin_named = env.contains("EMPORIUM_ADMIN_LISTEN") ||
                           std::any_of(args.begin(), args.end(), [](const std::string& a) {
                             return a.rfind("--admin-listen", 0) == 0;
                           });
  if (!args.empty() && args.front() == "serve" && !admin_named) {
    argv_s.emplace_back("--admin-listen=127.0.0.1:0");
  }
  std::vector<char*> argv;
  for (auto& a : argv_s) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);

  // The edge's per-client limits are far above what a test sends from its
  // one address, unless the test sets them (tests/integration/ratelimit_test.cpp).
  for (const char* key :
       {"EMPORIUM_RATE_LIMIT_SIGN_IN", "EMPORIUM_RATE_LIMIT_SIGNUP", "EMPORIUM_RATE_LIMIT_REFRESH",
        "EMPORIUM_RATE_LIMIT_PASSWORD", "EMPORIUM_RATE_LIMIT_READ", "EMPORIUM_RATE_LIMIT_WRITE"}) {
    env.try_emplace(key, "1000000/1m");
  }
  for (const char* keep : {"PATH", "HOME", "TMPDIR"}) {
    if (const char* v = std::getenv(keep); v != nullptr && !env.contains(keep)) {
      env[keep] = v;
    }
  }
  std::vector<std::string> env_s;
  for (const auto& [k, v] : env) {
    env_s.push_back(k + "=" + v);
  }
  std::vector<char*> envp;
  for (auto& e : env_s) {
    envp.push_back(e.data());
  }
  envp.push_back(nullptr);

  const int rc = posix_spawn(&pid_, EMPORIUM_BINARY, &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  out_fd_ = fds[0];
  if (rc != 0) {
    close(out_fd_);
    throw std::runtime_error("posix_spawn failed");
  }
  reader_ = std::thread([this] {
    char buf[65536];
    for (;;) {
      const ssize_t n = read(out_fd_, buf, sizeof buf);
      if (n <= 0) {
        return;
      }
      std::lock_guard lock(mutex_);
      output_.append(buf, static_cast<std::size_t>(n));
    }
  });
}

Process::~Process() {
  if (pid_ > 0) {
    terminate();
  }
  if (reader_.joinable()) {
    reader_.join();
  }
  if (out_fd_ >= 0) {
    close(out_fd_);
  }
}

bool Process::reap() {
  if (!exited_ && waitpid(pid_, &status_, WNOHANG) == pid_) {
    exited_ = true;
  }
  return exited_;
}

void Process::terminate() {
  if (reap()) {
    return;
  }
  kill(pid_, SIGTERM);
  const auto deadline = clock::now() + kTerminateGrace;
  while (!reap() && clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!exited_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status_, 0);
    exited_ = true;
  }
}

std::optional<std::string> Process::wait_for_line(const std::string& needle,
                                                  std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  for (;;) {
    const bool gone = reap();
    std::string text;
    {
      std::lock_guard lock(mutex_);
      text = output_;
    }
    std::size_t line_start = scanned_;
    for (std::size_t nl = text.find('\n', line_start); nl != std::string::npos;
         nl = text.find('\n', line_start)) {
      std::string line = text.substr(line_start, nl - line_start);
      line_start = nl + 1;
      scanned_ = line_start;
      if (line.find(needle) != std::string::npos) {
        return line;
      }
    }
    if (clock::now() >= deadline || gone) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

namespace {

std::mutex admin_ports_mutex;
std::map<std::uint16_t, std::uint16_t> admin_ports;  // public port -> admin port

}  // namespace

std::uint16_t admin_port(std::uint16_t public_port) {
  std::lock_guard lock(admin_ports_mutex);
  const auto it = admin_ports.find(public_port);
  if (it == admin_ports.end()) {
    throw std::runtime_error("no admin listener known for port " + std::to_string(public_port));
  }
  return it->second;
}

std::uint16_t Process::wait_listening(std::chrono::milliseconds timeout) {
  // The admin listener starts (and logs) before the public one.
  const auto admin_line = wait_for_line("\"msg\":\"admin listening\"", timeout);
  auto line = wait_for_line("\"msg\":\"listening\"", timeout);
  if (!line) {
    throw std::runtime_error("emporium did not start listening; output:\n" + output());
  }
  const auto port = static_cast<std::uint16_t>(boost::json::parse(*line).at("port").as_int64());
  if (admin_line) {
    admin_port_ = static_cast<std::uint16_t>(boost::json::parse(*admin_line).at("port").as_int64());
    std::lock_guard lock(admin_ports_mutex);
    admin_ports[port] = admin_port_;
  }
  return port;
}

std::uint16_t Process::wait_admin_listening(std::chrono::milliseconds timeout) {
  if (admin_port_ == 0) {
    (void)wait_listening(timeout);
  }
  if (admin_port_ == 0) {
    throw std::runtime_error("emporium did not start its admin listener; output:\n" + output());
  }
  return admin_port_;
}

void Process::signal(int signo) {
  if (!reap()) {
    kill(pid_, signo);
  }
}

int Process::wait_exit(std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  while (!reap() && clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!exited_) {
    terminate();
    return -1;
  }
  if (reader_.joinable()) {
    reader_.join();  // the pipe closes when the child exits: all output is in
  }
  return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
}

const std::string& Process::output() {
  std::lock_guard lock(mutex_);
  snapshot_ = output_;
  return snapshot_;
}

namespace {

std::size_t collect(char* data, std::size_t size, std::size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

std::size_t collect_header(char* data, std::size_t size, std::size_t n, void* user) {
  std::string_view line(data, size * n);
  const auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    auto value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') {
      value.remove_prefix(1);
    }
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n')) {
      value.remove_suffix(1);
    }
    static_cast<http::Headers*>(user)->add(line.substr(0, colon), value);
  }
  return size * n;
}

}  // namespace

std::optional<http::Response> request(const std::string& method, std::uint16_t port,
                                      const std::string& target, const std::string& body,
                                      const std::vector<std::string>& headers) {
  return request_from("", method, port, target, body, headers);
}

std::optional<http::Response> request_from(const std::string& source, const std::string& method,
                                           std::uint16_t port, const std::string& target,
                                           const std::string& body,
                                           const std::vector<std::string>& headers) {
  CURL* h = curl_easy_init();
  http::Response res;
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + target;
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  if (!source.empty()) {
    curl_easy_setopt(h, CURLOPT_INTERFACE, ("host!" + source).c_str());
  }
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &res.body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, collect_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &res.headers);
  if (method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  if (!body.empty()) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, body.c_str());
  }
  curl_slist* list = curl_slist_append(nullptr, "Expect:");
  for (const auto& hdr : headers) {
    list = curl_slist_append(list, hdr.c_str());
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
  const CURLcode rc = curl_easy_perform(h);
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(list);
  curl_easy_cleanup(h);
  if (rc != CURLE_OK) {
    return std::nullopt;
  }
  res.status = static_cast<int>(status);
  return res;
}

RawConnection::RawConnection(std::uint16_t port) {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd_);
    fd_ = -1;
  }
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) {
    close(fd_);
  }
}

bool RawConnection::send(const std::string& bytes) {
  std::size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) {
      return false;
    }
    off += static_cast<std::size_t>(n);
  }
  return true;
}

namespace {

// Counts complete responses in `s` (each with a Content-Length).
int complete_responses(const std::string& s) {
  int count = 0;
  std::size_t pos = 0;
  for (;;) {
    const auto end = s.find("\r\n\r\n", pos);
    if (end == std::string::npos) {
      return count;
    }
    std::size_t length = 0;
    const auto head = s.substr(pos, end - pos);
    for (std::string key : {"Content-Length: ", "content-length: "}) {
      if (auto k = head.find(key); k != std::string::npos) {
        length = std::stoul(head.substr(k + key.size()));
      }
    }
    if (s.size() < end + 4 + length) {
      return count;
    }
    ++count;
    pos = end + 4 + length;
  }
}

}  // namespace

std::string RawConnection::read_responses(int n, std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  while (complete_responses(pending_) < n && clock::now() < deadline) {
    pollfd p{fd_, POLLIN, 0};
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    if (poll(&p, 1, static_cast<int>(std::max<std::int64_t>(1, left.count()))) <= 0) {
      continue;
    }
    char buf[16384];
    const ssize_t got = recv(fd_, buf, sizeof buf, 0);
    if (got <= 0) {
      break;
    }
    pending_.append(buf, static_cast<std::size_t>(got));
  }
  return pending_;
}

bool RawConnection::wait_closed(std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  while (clock::now() < deadline) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, 20) <= 0) {
      continue;
    }
    char buf[4096];
    const ssize_t got = recv(fd_, buf, sizeof buf, 0);
    if (got <= 0) {
      return true;
    }
    pending_.append(buf, static_cast<std::size_t>(got));
  }
  return false;
}

InProcessServer::InProcessServer(http::ServerOptions options,
                                 const std::function<void(http::Router&)>& routes) {
  options.host = "127.0.0.1";
  options.port = 0;
  http::add_ops_routes(router_, readiness_, metrics_);
  routes(router_);
  pipeline_ = std::make_unique<http::Pipeline>(http::CorsPolicy{}, metrics_);
  server_ = std::make_unique<http::Server>(options, router_, *pipeline_, readiness_, metrics_);
  port_ = server_->listen();
  thread_ = std::thread([this] {
    server_->run(false);
    stopped_.store(true);
  });
}

InProcessServer::~InProcessServer() {
  server_->shutdown();
  thread_.join();
}

bool InProcessServer::wait_stopped(std::chrono::milliseconds timeout) {
  const auto deadline = clock::now() + timeout;
  while (!stopped_.load() && clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return stopped_.load();
}

std::filesystem::path repo_root() {
  if (const char* root = std::getenv("EMPORIUM_SOURCE_DIR"); root != nullptr && *root != '\0') {
    return root;
  }
  // Absolute, from the build; __FILE__ may be relative (ccache's base_dir).
  return EMPORIUM_SOURCE_ROOT;
}

std::string local_services(const std::string& verb, const std::filesystem::path& dir,
                           const std::map<std::string, std::string>& env) {
  const auto script = repo_root() / "scripts" / "local-services.sh";
  std::string cmd;
  for (const auto& [k, v] : env) {
    cmd += k + "=" + v + " ";
  }
  cmd += "'" + script.string() + "' " + verb + " '" + dir.string() + "'";
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) {
    ADD_FAILURE() << "cannot run " << cmd;
    return out;
  }
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) {
    out += buf;
  }
  EXPECT_EQ(::pclose(p), 0) << cmd;
  return out;
}

namespace {

// The scratch directories this test process made; removed when it exits
// (after every test's servers are stopped), so a run leaves nothing behind.
class Scratch {
 public:
  ~Scratch() {
    for (const auto& dir : dirs_) {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  }
  void keep(const std::string& dir) {
    std::lock_guard lock(mutex_);
    dirs_.push_back(dir);
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> dirs_;
};

Scratch& scratch() {
  static Scratch s;
  return s;
}

}  // namespace

std::string temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "emporium-test-XXXXXX").string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  scratch().keep(tmpl);
  return tmpl;
}

std::string temp_file(const std::string& text, const std::string& suffix) {
  const auto path = std::filesystem::path(temp_dir()) / ("file" + suffix);
  std::ofstream(path) << text;
  return path.string();
}

std::vector<std::uint16_t> free_ports(int n) {
  static std::mutex mutex;
  static std::mt19937 rng(std::random_device{}());
  std::lock_guard lock(mutex);
  // Below the kernel's ephemeral range (net.ipv4.ip_local_port_range).
  static const unsigned top = [] {
    unsigned low = 32768;
    std::ifstream("/proc/sys/net/ipv4/ip_local_port_range") >> low;
    return std::clamp(low, 12000U, 65535U);
  }();
  std::vector<std::uint16_t> ports;
  for (int tries = 0; static_cast<int>(ports.size()) < n && tries < 10'000; ++tries) {
    const auto port = static_cast<std::uint16_t>(10000 + rng() % (top - 10000));
    if (std::find(ports.begin(), ports.end(), port) != ports.end()) {
      continue;
    }
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    const bool free = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    if (fd >= 0) {
      ::close(fd);
    }
    if (free) {
      ports.push_back(port);
    }
  }
  if (static_cast<int>(ports.size()) < n) {
    throw std::runtime_error("no free ports on 127.0.0.1 below the ephemeral range");
  }
  return ports;
}

PrivateServer::PrivateServer(std::string service, const std::vector<std::string>& port_vars,
                             const std::string& url_var) {
  const char* base = std::getenv("EMPORIUM_TEST_SERVICES_DIR");
  if (base == nullptr || *base == '\0') {
    throw std::runtime_error("EMPORIUM_TEST_SERVICES_DIR is not set: run the suite via make test");
  }
  dir_ = std::filesystem::path(base) / (service + "-" + core::new_id().substr(0, 8));
  const auto ports = free_ports(static_cast<int>(port_vars.size()));
  for (std::size_t i = 0; i < port_vars.size(); ++i) {
    env_[port_vars[i]] = std::to_string(ports[i]);
  }
  env_["EMPORIUM_TEST_SERVICES"] = service;
  const auto out = run("start");
  const std::string key = "export " + url_var + "=";
  const auto at = out.find(key);
  if (at == std::string::npos) {
    run("stop");  // the destructor does not run when the constructor throws
    throw std::runtime_error("local-services.sh start printed: " + out);
  }
  url_ = out.substr(at + key.size(), out.find('\n', at) - at - key.size());
}

PrivateServer::~PrivateServer() {
  run("stop");
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string PrivateServer::run(const std::string& verb) {
  return local_services(verb, dir_, env_);
}

std::uint16_t PrivateServer::port() const {
  return static_cast<std::uint16_t>(std::stoi(url_.substr(url_.rfind(':') + 1)));
}

std::unique_ptr<PrivateServer> PrivateServer::postgres() {
  return std::make_unique<PrivateServer>(
      "postgres", std::vector<std::string>{"EMPORIUM_TEST_PG_PORT"}, "EMPORIUM_TEST_DATABASE_URL");
}

std::unique_ptr<PrivateServer> PrivateServer::rabbitmq() {
  return std::make_unique<PrivateServer>(
      "rabbitmq",
      std::vector<std::string>{"EMPORIUM_TEST_AMQP_PORT", "EMPORIUM_TEST_AMQP_DIST_PORT",
                               "EMPORIUM_TEST_EPMD_PORT", "EMPORIUM_TEST_AMQPS_PORT"},
      "EMPORIUM_TEST_AMQP_URL");
}

std::unique_ptr<PrivateServer> PrivateServer::redis() {
  return std::make_unique<PrivateServer>(
      "redis", std::vector<std::string>{"EMPORIUM_TEST_REDIS_PORT"}, "EMPORIUM_TEST_REDIS_URL");
}

}  // namespace emporium::test
