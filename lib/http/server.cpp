#include "http/server.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <ctime>
#include <list>
#include <optional>
#include <thread>

#include "http/problem.hpp"
#include "obs/log.hpp"

namespace emporium::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

namespace {

// The IMF-fixdate for the Date header, recomputed at most once a second per thread.
std::string_view http_date() {
  thread_local std::time_t cached_at = 0;
  thread_local char buf[64] = {};
  const std::time_t now = std::time(nullptr);
  if (now != cached_at) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached_at = now;
  }
  return buf;
}

struct SessionSlot {
  beast::tcp_stream* stream = nullptr;
  bool idle = false;
};

}  // namespace

struct Server::Impl {
  // Members are destroyed bottom-up: ctx goes first, so coroutine frames it
  // still owns release their session slots while the list is alive.
  struct Worker {
    std::list<SessionSlot> sessions;
    bool draining = false;
    std::thread thread;
    asio::io_context ctx{1};
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
  };

  ServerOptions opts;
  const Router& router;
  const Pipeline& pipeline;
  Readiness& readiness;
  obs::Gauge& open_connections;
  obs::Family<obs::Counter>& rejected;

  asio::io_context control{1};
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::unique_ptr<Worker>> workers;
  std::optional<asio::thread_pool> pool;
  std::atomic<std::size_t> connections{0};
  std::atomic<bool> stopping{false};
  std::size_t next_worker = 0;

  Impl(ServerOptions o, const Router& r, const Pipeline& p, Readiness& ready, obs::Registry& m)
      : opts(std::move(o)),
        router(r),
        pipeline(p),
        readiness(ready),
        open_connections(
            m.gauge("emporium_http_connections_open", "Open client connections.").with({})),
        rejected(m.counter("emporium_http_rejected_total",
                           "Connections or requests refused before routing, by reason.",
                           {"reason"})) {}

  awaitable<void> accept_loop() {
    for (;;) {
      Worker& w = *workers[next_worker];
      next_worker = (next_worker + 1) % workers.size();
      auto [ec, socket] = co_await acceptor->async_accept(w.ctx, kNoThrow);
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor->is_open()) {
          co_return;
        }
        obs::warn("accept failed", {{"error", ec.message()}});
        // Back off briefly on resource exhaustion (EMFILE) instead of spinning.
        asio::steady_timer t(control, std::chrono::milliseconds(50));
        co_await t.async_wait(kNoThrow);
        continue;
      }
      if (connections.load() >= opts.max_connections) {
        rejected.with({"connection_limit"}).inc();
        beast::error_code ignored;
        socket.close(ignored);
        continue;
      }
      connections.fetch_add(1);
      open_connections.inc();
      asio::co_spawn(w.ctx, session(w, std::move(socket)), [](const std::exception_ptr& e) {
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            obs::error("session failed", {{"exception", ex.what()}});
          }
        }
      });
    }
  }

  // Writes a bare problem response for a request that could not be read.
  awaitable<void> reject(beast::tcp_stream& stream, int status, std::string_view reason) {
    rejected.with({reason}).inc();
    Response p = problem(status);
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), 11};
    for (const auto& [k, v] : p.headers.fields()) {
      res.set(k, v);
    }
    res.set(bhttp::field::date, http_date());
    res.body() = std::move(p.body);
    res.keep_alive(false);
    res.prepare_payload();
    stream.expires_after(std::chrono::seconds(1));
    co_await bhttp::async_write(stream, res, kNoThrow);
  }

  // Gives the session's slot back and counts the connection closed, however
  // the session ends.
  struct SlotRelease {
    Impl& impl;
    Worker& w;
    std::list<SessionSlot>::iterator slot;
    ~SlotRelease() {
      w.sessions.erase(slot);
      impl.connections.fetch_sub(1);
      impl.open_connections.dec();
    }
  };

  // Turns Nagle off and returns the peer as "address:port" (empty when the
  // socket has no peer any more).
  static std::string prepare_socket(tcp::socket& socket) {
    beast::error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    std::string remote;
    if (auto ep = socket.remote_endpoint(ec); !ec) {
      remote = ep.address().to_string() + ":" + std::to_string(ep.port());
    }
    return remote;
  }

  // One connection: requests read, handled and answered in turn (pipelined
  // requests wait in `buffer`) until the client or a failure ends it, the
  // response says close, or the worker drains.
  awaitable<void> session(Worker& w, tcp::socket socket) {
    auto slot = w.sessions.insert(w.sessions.end(), SessionSlot{});
    const SlotRelease release{*this, w, slot};
    const std::string remote = prepare_socket(socket);
    beast::tcp_stream stream(std::move(socket));
    slot->stream = &stream;
    beast::flat_buffer buffer;

    for (;;) {
      const bool ready = co_await next_request_ready(w, *slot, stream, buffer);
      if (!ready) {
        break;
      }
      bhttp::request_parser<bhttp::string_body> parser;
      const beast::error_code ec = co_await read_request(stream, buffer, parser);
      if (ec) {
        co_await answer_read_error(stream, ec);
        break;
      }
      const bool more = co_await respond(w, stream, parser.get(), remote);
      if (!more) {
        break;
      }
    }
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream.socket().close(ec);
  }

  // With nothing buffered, waits up to the idle timeout for the next request
  // to begin, as an idle session that a drain may cancel. False when the
  // session is to end instead: the worker is draining, or the wait failed
  // (timeout, cancelled, closed by the client).
  awaitable<bool> next_request_ready(const Worker& w, SessionSlot& slot, beast::tcp_stream& stream,
                                     beast::flat_buffer& buffer) {
    if (buffer.size() != 0) {
      co_return true;
    }
    if (w.draining) {
      co_return false;
    }
    slot.idle = true;
    stream.expires_after(opts.idle_timeout);
    auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), kNoThrow);
    slot.idle = false;
    if (ec) {
      co_return false;
    }
    buffer.commit(n);
    co_return true;
  }

  // Reads one request within the read timeout and the header and body
  // limits, answering "Expect: 100-continue" before reading the body.
  awaitable<beast::error_code> read_request(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                            bhttp::request_parser<bhttp::string_body>& parser) {
    parser.header_limit(static_cast<std::uint32_t>(opts.max_header_bytes));
    parser.body_limit(opts.max_body_bytes);
    stream.expires_after(opts.read_timeout);
    auto [ec, hn] = co_await bhttp::async_read_header(stream, buffer, parser, kNoThrow);
    if (ec || parser.is_done()) {
      co_return ec;
    }
    if (beast::iequals(parser.get()[bhttp::field::expect], "100-continue")) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      auto [cec, cn] = co_await asio::async_write(stream, asio::buffer(kContinue), kNoThrow);
      if (cec) {
        co_return cec;
      }
    }
    auto [bec, bn] = co_await bhttp::async_read(stream, buffer, parser, kNoThrow);
    co_return bec;
  }

  // Answers a request that could not be read: 431 or 413 over a limit, 400
  // when malformed; nothing when the client went away or the read deadline
  // passed (the stream has closed the socket by then).
  awaitable<void> answer_read_error(beast::tcp_stream& stream, const beast::error_code& ec) {
    if (ec == bhttp::error::header_limit) {
      co_await reject(stream, 431, "header_too_large");
    } else if (ec == bhttp::error::body_limit) {
      co_await reject(stream, 413, "body_too_large");
    } else if (ec == beast::error::timeout) {
      // The stream closed the socket when its deadline passed: nothing
      // can be sent, the slow client is simply cut off.
      rejected.with({"read_timeout"}).inc();
    } else if (ec != bhttp::error::end_of_stream && ec != asio::error::eof &&
               ec != asio::error::connection_reset && ec != asio::error::operation_aborted &&
               ec != bhttp::error::partial_message) {
      co_await reject(stream, 400, "malformed");
    }
  }

  // Handles one request read off the connection and writes its response.
  // True when the connection stays open for the next one: keep-alive asked
  // for, the worker not draining, and the write done.
  awaitable<bool> respond(const Worker& w, beast::tcp_stream& stream,
                          bhttp::request<bhttp::string_body>& msg, const std::string& remote) {
    Request req = to_request(msg, remote);
    Response res = co_await handle(req);
    const bool keep_alive = msg.keep_alive() && !w.draining;
    const bool head = req.method == "HEAD";
    bhttp::response<bhttp::string_body> out =
        to_beast(std::move(res), msg.version(), keep_alive, head);
    const beast::error_code ec = co_await write_response(stream, out, head);
    co_return !ec && keep_alive;
  }

  // The request as handlers see it; takes the body out of `msg`.
  static Request to_request(bhttp::request<bhttp::string_body>& msg, const std::string& remote) {
    Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    req.remote = remote;
    for (const auto& f : msg) {
      req.headers.add(f.name_string(), f.value());
    }
    req.body = std::move(msg.body());
    return req;
  }

  // Routes and handles `req` (400 for a target that does not parse). A
  // route's fast handler is tried first, here on the I/O thread; an
  // asynchronous route runs on this I/O thread too; otherwise a blocking
  // route runs on the thread pool while the session waits for it.
  awaitable<Response> handle(Request& req) {
    Router::Match match;
    if (!parse_target(req.target, req)) {
      match.status = 400;
    } else {
      match = router.match(req.method, req.path);
    }
    if (auto fast = pipeline.handle_fast(req, match)) {
      co_return std::move(*fast);
    }
    if (match.route != nullptr && match.route->options.async) {
      co_return co_await pipeline.handle_async(req, match);
    }
    if (match.route != nullptr && match.route->options.blocking) {
      Response res = co_await asio::co_spawn(
          pool->get_executor(),
          [&]() -> awaitable<Response> { co_return pipeline.handle(req, match); }, use_awaitable);
      co_return res;
    }
    co_return pipeline.handle(req, match);
  }

  // The response on the wire: the Date header, Connection as `keep_alive`,
  // Content-Length except for 1xx, 204 and 304 (which carry no body), and no
  // body in answer to HEAD.
  static bhttp::response<bhttp::string_body> to_beast(Response res, unsigned version,
                                                      bool keep_alive, bool head) {
    bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(res.status), version};
    for (const auto& [k, v] : res.headers.fields()) {
      out.insert(k, v);
    }
    out.set(bhttp::field::date, http_date());
    out.keep_alive(keep_alive);
    if (res.status >= 200 && res.status != 204 && res.status != 304) {
      out.content_length(res.body.size());
    } else {
      res.body.clear();
    }
    if (!head) {
      out.body() = std::move(res.body);
    }
    return out;
  }

  // Writes `out` within the write timeout: only the header for HEAD.
  awaitable<beast::error_code> write_response(beast::tcp_stream& stream,
                                              bhttp::response<bhttp::string_body>& out, bool head) {
    stream.expires_after(opts.write_timeout);
    bhttp::response_serializer<bhttp::string_body> sr{out};
    if (head) {
      sr.split(true);
      auto [ec, n] = co_await bhttp::async_write_header(stream, sr, kNoThrow);
      co_return ec;
    }
    auto [ec, n] = co_await bhttp::async_write(stream, sr, kNoThrow);
    co_return ec;
  }

  awaitable<void> shutdown_sequence() {
    readiness.begin_shutdown();
    obs::info("shutdown started",
              {{"delay_ms", static_cast<std::int64_t>(opts.shutdown_delay.count())}});
    asio::steady_timer timer(control);
    if (opts.shutdown_delay.count() > 0) {
      timer.expires_after(opts.shutdown_delay);
      co_await timer.async_wait(kNoThrow);
    }
    beast::error_code ec;
    acceptor->close(ec);
    for (auto& w : workers) {
      asio::post(w->ctx, [&worker = *w] {
        worker.draining = true;
        for (auto& s : worker.sessions) {
          if (s.idle && s.stream != nullptr) {
            s.stream->cancel();
          }
        }
      });
    }
    const auto deadline = std::chrono::steady_clock::now() + opts.drain_timeout;
    while (connections.load() > 0 && std::chrono::steady_clock::now() < deadline) {
      timer.expires_after(std::chrono::milliseconds(10));
      co_await timer.async_wait(kNoThrow);
    }
    obs::info("shutdown drained",
              {{"connections_left", static_cast<std::int64_t>(connections.load())}});
    control.stop();
  }
};

Server::Server(ServerOptions options, const Router& router, const Pipeline& pipeline,
               Readiness& readiness, obs::Registry& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), router, pipeline, readiness, metrics)) {}

Server::~Server() = default;

std::uint16_t Server::listen() {
  auto& i = *impl_;
  tcp::resolver resolver(i.control);
  auto results = resolver.resolve(i.opts.host, std::to_string(i.opts.port),
                                  tcp::resolver::passive | tcp::resolver::numeric_service);
  const tcp::endpoint endpoint = results.begin()->endpoint();
  i.acceptor.emplace(i.control);
  i.acceptor->open(endpoint.protocol());
  i.acceptor->set_option(asio::socket_base::reuse_address(true));
  i.acceptor->bind(endpoint);
  i.acceptor->listen(asio::socket_base::max_listen_connections);
  return i.acceptor->local_endpoint().port();
}

void Server::run(bool handle_signals) {
  auto& i = *impl_;
  const unsigned n = i.opts.io_threads != 0 ? i.opts.io_threads
                                            : std::max(1U, std::thread::hardware_concurrency());
  i.pool.emplace(std::max(1U, i.opts.blocking_threads));
  for (unsigned k = 0; k < n; ++k) {
    auto w = std::make_unique<Impl::Worker>();
    w->guard.emplace(w->ctx.get_executor());
    i.workers.push_back(std::move(w));
  }
  for (auto& w : i.workers) {
    w->thread = std::thread([&ctx = w->ctx] { ctx.run(); });
  }
  asio::signal_set signals(i.control);
  if (handle_signals) {
    signals.add(SIGINT);
    signals.add(SIGTERM);
    signals.async_wait([this](const beast::error_code& ec, int signo) {
      if (!ec) {
        obs::info("signal received", {{"signal", static_cast<std::int64_t>(signo)}});
        shutdown();
      }
    });
  }
  asio::co_spawn(i.control, i.accept_loop(), asio::detached);
  i.control.run();

  // Drained (or out of time). The accept loop's last async_accept, which
  // refers to a worker's io_context, and the signal wait may still be queued
  // on the control context, stopped before they ran: cancel them and let
  // them finish now, while the workers exist, so that nothing on the control
  // context outlives them.
  beast::error_code ec;
  signals.cancel(ec);
  i.acceptor->close(ec);
  i.control.restart();
  i.control.run();

  // Then stop handlers first, then the I/O threads.
  i.pool->stop();
  i.pool->join();
  for (auto& w : i.workers) {
    w->guard.reset();
    w->ctx.stop();
  }
  for (auto& w : i.workers) {
    w->thread.join();
  }
  // Handlers still queued on the pool own session frames that refer to the
  // workers: destroy them while the workers exist.
  i.pool.reset();
  i.workers.clear();
}

void Server::shutdown() {
  if (impl_->stopping.exchange(true)) {
    return;
  }
  asio::co_spawn(impl_->control, impl_->shutdown_sequence(), asio::detached);
}

}  // namespace emporium::http
