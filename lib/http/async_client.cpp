#include "http/async_client.hpp"

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <vector>

namespace emporium::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
using BeastRequest = bhttp::request<bhttp::string_body>;

namespace {

constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

// The idle keep-alive connections of every AsyncClient used in one execution
// context, by client. A service of that context, so the sockets are closed
// when it shuts down, while its reactor still exists: it is first created in
// give_back(), after the sockets it holds, and asio shuts services down
// newest first.
class IdleConnections final : public asio::execution_context::service {
 public:
  static inline asio::execution_context::id
      id;  // NOLINT(readability-identifier-naming): asio's name

  explicit IdleConnections(asio::execution_context& ctx) : service(ctx) {}

  static std::optional<beast::tcp_stream> take(asio::execution_context& ctx, std::uint64_t client) {
    if (!asio::has_service<IdleConnections>(ctx)) {
      return std::nullopt;
    }
    auto& self = asio::use_service<IdleConnections>(ctx);
    std::lock_guard lock(self.mutex_);
    auto it = self.idle_.find(client);
    if (it == self.idle_.end() || it->second.empty()) {
      return std::nullopt;
    }
    std::optional<beast::tcp_stream> stream(std::move(it->second.back()));
    it->second.pop_back();
    return stream;
  }

  static void give_back(asio::execution_context& ctx, std::uint64_t client,
                        beast::tcp_stream stream, std::size_t max_idle) {
    auto& self = asio::use_service<IdleConnections>(ctx);
    std::lock_guard lock(self.mutex_);
    auto& idle = self.idle_[client];
    if (idle.size() < max_idle) {
      idle.push_back(std::move(stream));
    }
  }

 private:
  void shutdown() override {
    std::lock_guard lock(mutex_);
    idle_.clear();
  }

  std::mutex mutex_;
  std::unordered_map<std::uint64_t, std::vector<beast::tcp_stream>> idle_;
};

std::atomic<std::uint64_t> next_client_id{1};

bool needs_body(std::string_view method) {
  return method == "POST" || method == "PUT" || method == "PATCH";
}

// The request on the wire, as the blocking client sends it: Host, a default
// Accept, a JSON Content-Type for a body unless the caller set one, the
// request id, then the caller's headers; Content-Length for a body or a
// method that carries one.
BeastRequest make_request(std::string_view method, const std::string& target,
                          std::string_view authority, std::string_view body,
                          const CallOptions& options) {
  BeastRequest req;
  req.version(11);
  req.method_string(method);
  req.target(target);
  if (!options.headers.has("Host")) {
    req.set(bhttp::field::host, authority);
  }
  if (!options.headers.has("Accept")) {
    req.set(bhttp::field::accept, "*/*");
  }
  if (!body.empty() && !options.headers.has("Content-Type")) {
    req.set(bhttp::field::content_type, "application/json");
  }
  if (!options.request_id.empty()) {
    req.set("X-Request-Id", options.request_id);
  }
  for (const auto& [k, v] : options.headers.fields()) {
    req.insert(k, v);
  }
  if (!body.empty() || needs_body(method)) {
    req.body().assign(body);
    req.content_length(body.size());
  }
  return req;
}

// True for a failure that shows the upstream had closed a reused connection
// before it could carry this request: the write failed, or the read found
// the connection closed before any byte of an answer.
bool closed_while_idle(const beast::error_code& ec, bool got_some) {
  if (got_some) {
    return false;
  }
  return ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted;
}

Response to_response(bhttp::response<bhttp::string_body>&& msg) {
  Response res;
  res.status = static_cast<int>(msg.result_int());
  for (const auto& f : msg) {
    res.headers.add(f.name_string(), f.value());
  }
  res.body = std::move(msg.body());
  return res;
}

// What one request/response exchange on a connection gave.
struct Exchange {
  beast::error_code ec;
  bool got_some = false;  // some of the answer arrived
  std::optional<Response> response;
  bool keep_alive = false;
};

asio::awaitable<Exchange> exchange(beast::tcp_stream& stream, const BeastRequest& req, bool head,
                                   clock_type::time_point deadline) {
  Exchange out;
  stream.expires_at(deadline);
  auto [wec, wn] = co_await bhttp::async_write(stream, req, kNoThrow);
  if (wec) {
    out.ec = wec;
    co_return out;
  }
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(boost::none);
  parser.skip(head);
  beast::flat_buffer buffer;
  auto [rec, rn] = co_await bhttp::async_read(stream, buffer, parser, kNoThrow);
  out.got_some = parser.got_some();
  if (rec) {
    out.ec = rec;
    co_return out;
  }
  out.keep_alive = parser.get().keep_alive();
  out.response = to_response(parser.release());
  co_return out;
}

}  // namespace

struct AsyncClient::Connection {
  // Connects `stream` within the connect timeout (and the deadline).
  static asio::awaitable<beast::error_code> open(beast::tcp_stream& stream, const AsyncClient& c,
                                                 clock_type::time_point deadline) {
    stream.expires_at(std::min(
        deadline, clock_type::now() + c.options_.connect_timeout + std::chrono::milliseconds(1)));
    beast::error_code ec;
    const auto address = asio::ip::make_address(c.host_, ec);
    if (!ec) {
      const tcp::endpoint endpoint(address, static_cast<std::uint16_t>(std::stoi(c.port_)));
      auto [cec] = co_await stream.async_connect(endpoint, kNoThrow);
      co_return cec;
    }
    tcp::resolver resolver(stream.get_executor());
    auto [rec, results] = co_await resolver.async_resolve(c.host_, c.port_, kNoThrow);
    if (rec) {
      co_return rec;
    }
    auto [cec, ep] = co_await stream.async_connect(results, kNoThrow);
    co_return cec;
  }
};

AsyncClient::AsyncClient(ClientOptions options, obs::Registry* metrics)
    : options_(std::move(options)), id_(next_client_id.fetch_add(1)), policy_(options_, metrics) {
  while (!options_.base_url.empty() && options_.base_url.back() == '/') {
    options_.base_url.pop_back();
  }
  auto url = boost::urls::parse_uri(options_.base_url);
  if (!url || url->scheme() != "http" || url->host().empty()) {
    throw std::invalid_argument("asynchronous client: not an http:// URL: " + options_.base_url);
  }
  host_ = url->host_address();
  if (!host_.empty() && host_.front() == '[') {
    host_ = host_.substr(1, host_.size() - 2);
  }
  port_ = url->has_port() ? std::string(url->port()) : "80";
  authority_ = url->encoded_host_and_port();
  prefix_ = url->encoded_path();
}

AsyncClient::~AsyncClient() = default;

asio::awaitable<ClientResult> AsyncClient::attempt(std::string_view method, std::string_view path,
                                                   std::string_view body,
                                                   const CallOptions& options,
                                                   clock_type::time_point deadline) {
  const auto executor = co_await asio::this_coro::executor;
  auto& ctx = asio::query(executor, asio::execution::context);
  const std::string url = options_.base_url + std::string(path);
  const BeastRequest req =
      make_request(method, prefix_ + std::string(path), authority_, body, options);
  for (;;) {
    auto stream = IdleConnections::take(ctx, id_);
    const bool reused = stream.has_value();
    if (!reused) {
      stream.emplace(executor);
      const auto ec = co_await Connection::open(*stream, *this, deadline);
      if (ec) {
        const auto code =
            ec == beast::error::timeout ? ClientErrc::timeout : ClientErrc::connect_failed;
        co_return ClientError{code, ec.message() + " (" + url + ")"};
      }
    }
    auto got = co_await exchange(*stream, req, method == "HEAD", deadline);
    if (got.ec && reused && closed_while_idle(got.ec, got.got_some)) {
      continue;  // a connection the upstream closed while it was idle: take another
    }
    if (got.ec) {
      const auto code =
          got.ec == beast::error::timeout ? ClientErrc::timeout : ClientErrc::transport;
      co_return ClientError{code, got.ec.message() + " (" + url + ")"};
    }
    if (got.keep_alive) {
      stream->expires_never();
      IdleConnections::give_back(ctx, id_, std::move(*stream), options_.max_idle_connections);
    }
    co_return std::move(*got.response);
  }
}

asio::awaitable<ClientResult> AsyncClient::call(std::string_view method, std::string_view path,
                                                std::string_view body, const CallOptions& options) {
  const auto deadline = clock_type::now() + options.timeout.value_or(options_.timeout);
  const bool may_retry = CallPolicy::may_retry(method, options);
  ClientResult last = CallPolicy::deadline_passed();
  for (int n = 0; n < std::max(1, options_.max_attempts); ++n) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
    if (left.count() <= 0) {
      break;
    }
    if (!policy_.admit()) {
      last = policy_.circuit_open();
      co_return last;
    }
    last = co_await attempt(method, path, body, options, deadline);
    policy_.finished(last);
    const auto pause = policy_.pause_before_retry(last, may_retry, n, deadline);
    if (!pause) {
      break;
    }
    asio::steady_timer timer(co_await asio::this_coro::executor, *pause);
    co_await timer.async_wait(kNoThrow);
  }
  co_return last;
}

ClientResult AsyncClient::call_blocking(std::string_view method, std::string_view path,
                                        std::string_view body, const CallOptions& options) {
  asio::io_context ctx{1};
  auto result = asio::co_spawn(ctx, call(method, path, body, options), asio::use_future);
  ctx.run();
  return result.get();
}

}  // namespace emporium::http
