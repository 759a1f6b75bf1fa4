#include "http/server.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <limits>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

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

using Clock = std::chrono::steady_clock;
constexpr std::int64_t kNoIdle = std::numeric_limits<std::int64_t>::max();

struct SessionSlot {
  beast::tcp_stream* stream = nullptr;
  bool waiting = false;     // for a request to begin: a drain cancels the wait
  bool kept_alive = false;  // in the worker's idle list, between keep-alive requests
  bool evicted = false;     // closed to make room for a new connection
  Clock::time_point idle_since{};
};

// Raises the soft limit on open files to the hard limit, so that
// max_connections sockets fit; warns when even the hard limit is lower.
void raise_open_files_limit(std::size_t max_connections) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) {
    return;
  }
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &lim) != 0) {
      obs::warn("cannot raise the open files limit", {{"error", std::strerror(errno)}});
      getrlimit(RLIMIT_NOFILE, &lim);
    }
  }
  // Headroom for databases, logs, upstream connections and the listener.
  constexpr rlim_t kHeadroom = 256;
  if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < max_connections + kHeadroom) {
    obs::warn("open files limit is below max_connections",
              {{"limit", static_cast<std::int64_t>(lim.rlim_cur)},
               {"max_connections", static_cast<std::int64_t>(max_connections)}});
  }
}

// Threads running one io_context at a CPU priority lowered by `nice`, so
// that their work (argon2id hashing) yields the cores to every other
// thread's whenever both want them.
class NicedPool {
 public:
  NicedPool(unsigned threads, int nice) : guard_(ctx_.get_executor()) {
    for (unsigned k = 0; k < threads; ++k) {
      threads_.emplace_back([this, nice] {
        // Raising one's own nice value needs no privilege; on failure the
        // thread runs at normal priority.
        setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), nice);
        ctx_.run();
      });
    }
  }
  ~NicedPool() { stop_and_join(); }
  NicedPool(const NicedPool&) = delete;
  NicedPool& operator=(const NicedPool&) = delete;

  asio::io_context::executor_type executor() { return ctx_.get_executor(); }

  // Stops the threads (work still queued is not run) and waits for them.
  void stop_and_join() {
    guard_.reset();
    ctx_.stop();
    for (auto& t : threads_) {
      if (t.joinable()) {
        t.join();
      }
    }
  }

 private:
  asio::io_context ctx_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard_;
  std::vector<std::thread> threads_;
};

// The classes whose handlers run argon2id: sign-in, registration, password.
bool hashes_passwords(RouteClass c) {
  return c == RouteClass::sign_in || c == RouteClass::signup || c == RouteClass::password;
}

// How much lower the hashing threads' priority is (nice 10: about a tenth of
// a core's share against a thread at nice 0).
constexpr int kHashingNice = 10;

// Threads for password hashing, and the default limit of each hashing
// class: one core fewer than there are (at least one), so a sign-in flood
// leaves a core to everything else.
std::size_t hashing_threads() {
  const std::size_t cores = std::thread::hardware_concurrency();
  return cores > 1 ? cores - 1 : 1;
}

// A 503 that says when to come back, for requests shed under load.
Response overloaded() {
  Response res = problem(503, "The server is busy; retry shortly");
  res.headers.set("Retry-After", "1");
  return res;
}

}  // namespace

struct Server::Impl {
  // Members are destroyed bottom-up: ctx goes first, so coroutine frames it
  // still owns release their session slots while the list is alive.
  struct Worker {
    std::list<SessionSlot> sessions;  // busy, or waiting for their first request
    std::list<SessionSlot> idle;      // between keep-alive requests, longest idle first
    // idle.front()'s idle_since (ns since the clock's epoch), or kNoIdle:
    // written by the worker, read by the accept loop to pick whom to evict.
    std::atomic<std::int64_t> oldest_idle{kNoIdle};
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
  obs::Family<obs::Counter>& shed;

  // Sessions give their address back when they end: declared before the
  // workers, whose io_contexts own the session frames.
  std::mutex clients_mutex;
  std::unordered_map<asio::ip::address, std::size_t> clients;  // open connections per address

  asio::io_context control{1};
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::unique_ptr<Worker>> workers;
  std::optional<asio::thread_pool> pool;
  std::optional<asio::thread_pool> ops_pool;  // /readyz, /metrics: never behind shop traffic
  std::optional<NicedPool> hashing_pool;      // sign-in, registration, password changes
  std::atomic<std::size_t> connections{0};
  std::atomic<std::size_t> idle_count{0};  // sessions in the workers' idle lists
  std::atomic<std::size_t> evicting{0};    // evictions asked for, not yet closed

  // Blocking requests admitted (queued or running), in all and per class.
  std::atomic<std::size_t> blocking_pending{0};
  std::array<std::atomic<std::size_t>, kRouteClasses> class_pending{};
  std::array<std::size_t, kRouteClasses> class_limits{};
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
                           {"reason"})),
        shed(m.counter("emporium_http_shed_total",
                       "Requests answered 503 at once because the blocking pool's queue or "
                       "their route class's concurrency limit was full, by route class.",
                       {"class"})) {
    for (std::size_t k = 0; k < kRouteClasses; ++k) {
      class_limits[k] = opts.class_limits[k] != 0 ? opts.class_limits[k] : hashing_threads();
    }
  }

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
      asio::ip::address peer;
      if (!admit(socket, peer)) {
        continue;
      }
      asio::co_spawn(w.ctx, session(w, std::move(socket), peer), [](const std::exception_ptr& e) {
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

  // Counts the new connection in, or refuses it (closes it at once, counted
  // by reason): over the per-client cap, or at max_connections with no idle
  // keep-alive connection to close instead. Above the high-water mark,
  // first asks a worker to close the connection idle longest.
  template <class Socket>
  bool admit(Socket& socket, asio::ip::address& peer) {
    beast::error_code ec;
    const auto ep = socket.remote_endpoint(ec);
    if (ec) {
      socket.close(ec);
      return false;
    }
    peer = ep.address();
    if (!enter_client(peer)) {
      refuse(socket, "client_limit");
      return false;
    }
    make_room();
    if (connections.load() >= opts.max_connections + evicting.load()) {
      leave_client(peer);
      refuse(socket, "connection_limit");
      return false;
    }
    connections.fetch_add(1);
    open_connections.inc();
    return true;
  }

  template <class Socket>
  void refuse(Socket& socket, std::string_view reason) {
    rejected.with({reason}).inc();
    beast::error_code ignored;
    socket.close(ignored);
  }

  // Counts a connection from `peer`; false when it already has the most
  // allowed.
  bool enter_client(const asio::ip::address& peer) {
    if (opts.max_connections_per_client == 0) {
      return true;
    }
    const std::lock_guard lock(clients_mutex);
    auto& n = clients[peer];
    if (n >= opts.max_connections_per_client) {
      if (n == 0) {
        clients.erase(peer);
      }
      return false;
    }
    ++n;
    return true;
  }

  void leave_client(const asio::ip::address& peer) {
    if (opts.max_connections_per_client == 0) {
      return;
    }
    const std::lock_guard lock(clients_mutex);
    if (auto it = clients.find(peer); it != clients.end() && --it->second == 0) {
      clients.erase(it);
    }
  }

  // Above 90 % of max_connections, asks the worker holding the connection
  // idle longest to close it, unless every idle one is being closed already.
  void make_room() {
    if (connections.load() * 10 < opts.max_connections * 9 ||
        idle_count.load() <= evicting.load()) {
      return;
    }
    Worker* oldest = nullptr;
    std::int64_t since = kNoIdle;
    for (auto& w : workers) {
      if (const auto t = w->oldest_idle.load(); t < since) {
        since = t;
        oldest = w.get();
      }
    }
    if (oldest == nullptr) {
      return;
    }
    evicting.fetch_add(1);
    asio::post(oldest->ctx, [this, oldest] { evict_oldest(*oldest); });
  }

  // On the worker: closes its connection idle longest, if any is left.
  void evict_oldest(Worker& w) {
    if (w.idle.empty()) {
      evicting.fetch_sub(1);
      return;
    }
    const auto slot = w.idle.begin();
    slot->evicted = true;
    rejected.with({"idle_evicted"}).inc();
    go_busy(w, slot);
    slot->stream->cancel();
  }

  // Moves a session into the worker's idle list (at the back: idle newest)
  // or out of it, keeping idle_count and oldest_idle current.
  void go_idle(Worker& w, std::list<SessionSlot>::iterator slot) {
    slot->kept_alive = true;
    slot->idle_since = Clock::now();
    w.idle.splice(w.idle.end(), w.sessions, slot);
    idle_count.fetch_add(1);
    publish_oldest(w);
  }

  void go_busy(Worker& w, std::list<SessionSlot>::iterator slot) {
    if (!slot->kept_alive) {
      return;
    }
    slot->kept_alive = false;
    w.sessions.splice(w.sessions.end(), w.idle, slot);
    idle_count.fetch_sub(1);
    publish_oldest(w);
  }

  static void publish_oldest(Worker& w) {
    w.oldest_idle.store(w.idle.empty() ? kNoIdle
                                       : w.idle.front().idle_since.time_since_epoch().count());
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
    asio::ip::address peer;
    ~SlotRelease() {
      impl.go_busy(w, slot);
      if (slot->evicted) {
        impl.evicting.fetch_sub(1);
      }
      w.sessions.erase(slot);
      impl.leave_client(peer);
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
  awaitable<void> session(Worker& w, tcp::socket socket, asio::ip::address peer) {
    auto slot = w.sessions.insert(w.sessions.end(), SessionSlot{});
    const SlotRelease release{*this, w, slot, peer};
    const std::string remote = prepare_socket(socket);
    beast::tcp_stream stream(std::move(socket));
    slot->stream = &stream;
    beast::flat_buffer buffer;

    for (bool first = true;; first = false) {
      const auto deadline = first ? co_await first_request_line(w, *slot, stream, buffer)
                                  : co_await next_request_ready(w, slot, stream, buffer);
      if (!deadline) {
        break;
      }
      bhttp::request_parser<bhttp::string_body> parser;
      const beast::error_code ec = co_await read_request(stream, buffer, parser, *deadline);
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

  // A new connection's first request line must arrive within the header
  // timeout (a drain may cancel the wait until its first byte), and from its
  // first byte the whole request within the read timeout. Returns when that
  // request must be read by; nullopt when the session is to end instead
  // (timed out, counted by reason; cancelled; closed by the client).
  awaitable<std::optional<Clock::time_point>> first_request_line(const Worker& w, SessionSlot& slot,
                                                                 beast::tcp_stream& stream,
                                                                 beast::flat_buffer& buffer) {
    if (w.draining) {
      co_return std::nullopt;
    }
    const auto header_deadline = Clock::now() + opts.header_timeout;
    std::optional<Clock::time_point> request_deadline;
    stream.expires_at(header_deadline);
    slot.waiting = true;
    for (std::size_t scanned = 0;;) {
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), kNoThrow);
      slot.waiting = false;
      if (ec) {
        if (ec == beast::error::timeout) {
          const bool read_first = request_deadline && *request_deadline <= header_deadline;
          rejected.with({read_first ? "read_timeout" : "header_timeout"}).inc();
        }
        co_return std::nullopt;
      }
      buffer.commit(n);
      if (!request_deadline) {
        request_deadline = Clock::now() + opts.read_timeout;
        stream.expires_at(std::min(header_deadline, *request_deadline));
      }
      const std::string_view data(static_cast<const char*>(buffer.data().data()), buffer.size());
      if (data.find('\n', scanned) != std::string_view::npos ||
          buffer.size() >= opts.max_header_bytes) {
        co_return request_deadline;
      }
      scanned = buffer.size();
    }
  }

  // With nothing buffered, waits up to the idle timeout for the next request
  // to begin, as an idle keep-alive session that a drain or an eviction may
  // cancel. Returns when that request must be read by (the read timeout from
  // now); nullopt when the session is to end instead: the worker is
  // draining, or the wait failed (timeout, cancelled, closed by the client).
  awaitable<std::optional<Clock::time_point>> next_request_ready(
      Worker& w, std::list<SessionSlot>::iterator slot, beast::tcp_stream& stream,
      beast::flat_buffer& buffer) {
    if (buffer.size() != 0) {
      co_return Clock::now() + opts.read_timeout;
    }
    if (w.draining) {
      co_return std::nullopt;
    }
    slot->waiting = true;
    go_idle(w, slot);
    stream.expires_after(opts.idle_timeout);
    auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), kNoThrow);
    slot->waiting = false;
    go_busy(w, slot);
    if (ec) {
      co_return std::nullopt;
    }
    buffer.commit(n);
    co_return Clock::now() + opts.read_timeout;
  }

  // Reads one request by `deadline` and within the header and body limits,
  // answering "Expect: 100-continue" before reading the body.
  awaitable<beast::error_code> read_request(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                            bhttp::request_parser<bhttp::string_body>& parser,
                                            Clock::time_point deadline) {
    parser.header_limit(static_cast<std::uint32_t>(opts.max_header_bytes));
    parser.body_limit(opts.max_body_bytes);
    stream.expires_at(deadline);
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
      co_return co_await run_blocking(req, match);
    }
    co_return pipeline.handle(req, match);
  }

  // Runs a blocking route on a pool while the session waits: ops routes on
  // their own pool, never limited; the password-hashing classes on the
  // low-priority hashing pool when their class has room; the others on the
  // blocking pool when their class and the pool's queue have room. Else a
  // 503 at once.
  awaitable<Response> run_blocking(Request& req, const Router::Match& match) {
    const RouteClass cls = classify(req.method, req.path);
    if (cls == RouteClass::ops) {
      co_return co_await run_on(ops_pool->get_executor(), req, match);
    }
    const std::size_t k = static_cast<std::size_t>(cls);
    if (class_pending[k].fetch_add(1) >= class_limits[k]) {
      class_pending[k].fetch_sub(1);
      co_return shed_request(req, match, cls, "class_limit");
    }
    const Admitted in_class{class_pending[k]};
    if (hashes_passwords(cls)) {
      co_return co_await run_on(hashing_pool->executor(), req, match);
    }
    if (blocking_pending.fetch_add(1) >= opts.blocking_threads + opts.blocking_queue) {
      blocking_pending.fetch_sub(1);
      co_return shed_request(req, match, cls, "queue_full");
    }
    const Admitted in_pool{blocking_pending};
    co_return co_await run_on(pool->get_executor(), req, match);
  }

  template <class Executor>
  awaitable<Response> run_on(Executor ex, Request& req, const Router::Match& match) {
    co_return co_await asio::co_spawn(
        ex, [&]() -> awaitable<Response> { co_return pipeline.handle(req, match); }, use_awaitable);
  }

  // A place taken in a class or the pool's queue, given back at scope end.
  struct Admitted {
    std::atomic<std::size_t>& count;
    ~Admitted() { count.fetch_sub(1); }
  };

  // The 503 for a shed request, through the pipeline (request id, headers,
  // metrics and access log under the route's own template).
  Response shed_request(Request& req, const Router::Match& match, RouteClass cls,
                        std::string_view reason) {
    rejected.with({reason}).inc();
    shed.with({name(cls)}).inc();
    Route busy = *match.route;
    busy.handler = [](Request&) { return overloaded(); };
    Router::Match m = match;
    m.route = &busy;
    return pipeline.handle(req, m);
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
        for (auto* list : {&worker.sessions, &worker.idle}) {
          for (auto& s : *list) {
            if (s.waiting && s.stream != nullptr) {
              s.stream->cancel();
            }
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
  raise_open_files_limit(i.opts.max_connections);
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
  i.ops_pool.emplace(2);
  i.hashing_pool.emplace(static_cast<unsigned>(hashing_threads()), kHashingNice);
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
  i.ops_pool->stop();
  i.ops_pool->join();
  i.hashing_pool->stop_and_join();
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
  i.ops_pool.reset();
  i.hashing_pool.reset();
  i.workers.clear();
}

void Server::shutdown() {
  if (impl_->stopping.exchange(true)) {
    return;
  }
  asio::co_spawn(impl_->control, impl_->shutdown_sequence(), asio::detached);
}

}  // namespace emporium::http
