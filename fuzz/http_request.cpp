// Bytes off a connection, handled as lib/http/server.cpp handles them,
// without a socket: Beast's request_parser with the server's header and
// body limits, up to 8 keep-alive requests in a row, each routed and
// handled by the all-in-one shop (every service, SQLite files under a
// scratch directory) through the real pipeline, then serialised as the
// server writes it.
//
// "@ADMIN@" and "@USER@" in an input become valid access tokens (an admin,
// and the customer "u-fuzz"), so the fuzzer reaches the signed-in routes.
//
// Findings besides sanitizer reports: a 500 (an exception escaped a
// handler), a status outside 100-599, or a response header holding CR, LF
// or NUL (response splitting).
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "auth/auth.hpp"
#include "config/config.hpp"
#include "http/message.hpp"
#include "http/ops.hpp"
#include "http/pipeline.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "obs/log.hpp"
#include "obs/metrics.hpp"
#include "registry.hpp"
#include "settings.hpp"

namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using namespace emporium;

struct Shop {
  explicit Shop(const config::Config& c)
      : cfg(c),
        pipeline(http::CorsPolicy{{"https://shop.example"}}, metrics),
        tokens(token_settings(c)) {
    http::add_ops_routes(router, readiness, metrics);
    services = std::make_unique<Registry>(cfg, metrics, readiness, router, pipeline);
    admin_token = tokens.issue("u-fuzz-admin", auth::kRoleAdmin, std::chrono::hours(24 * 365),
                               tokens.settings().audience);
    user_token = tokens.issue("u-fuzz", auth::kRoleCustomer, std::chrono::hours(24 * 365),
                              tokens.settings().audience);
  }
  config::Config cfg;
  obs::Registry metrics;
  http::Readiness readiness;
  http::Router router;
  http::Pipeline pipeline;
  auth::Tokens tokens;
  std::unique_ptr<Registry> services;
  http::ServerOptions limits;
  std::string admin_token;
  std::string user_token;
};

// Made once; stopped at exit (libFuzzer ends with exit()), before the
// statics its background workers use are destroyed.
Shop* shop = nullptr;

void replace_all(std::string& s, std::string_view from, const std::string& to) {
  for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

[[noreturn]] void finding(const char* what, const http::Request& req) {
  std::fprintf(stderr, "fuzz_http_request: %s for %s %s\n", what, req.method.c_str(),
               req.target.c_str());
  std::abort();
}

// As Server::Impl::to_request.
http::Request to_request(bhttp::request<bhttp::string_body>& msg) {
  http::Request req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  req.remote = "127.0.0.1:40000";
  for (const auto& f : msg) {
    req.headers.add(f.name_string(), f.value());
  }
  req.body = std::move(msg.body());
  return req;
}

// As Server::Impl::handle, on this thread.
http::Response handle(http::Request& req) {
  http::Router::Match match;
  if (!http::parse_target(req.target, req)) {
    match.status = 400;
  } else {
    match = shop->router.match(req.method, req.path);
  }
  return shop->pipeline.handle(req, match);
}

void check(const http::Request& req, const http::Response& res) {
  if (res.status < 100 || res.status > 599) {
    finding("status out of range", req);
  }
  if (res.status == 500) {
    finding("500 (an exception escaped the handler)", req);
  }
  for (const auto& [k, v] : res.headers.fields()) {
    if (k.find_first_of(std::string_view("\r\n\0: ", 5)) != std::string::npos ||
        v.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      finding("response header with CR, LF or NUL", req);
    }
  }
}

// As Server::Impl::to_beast and write_response: the bytes on the wire.
void serialise(http::Response res, unsigned version, bool keep_alive) {
  bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(res.status), version};
  for (const auto& [k, v] : res.headers.fields()) {
    out.insert(k, v);
  }
  out.keep_alive(keep_alive);
  out.content_length(res.body.size());
  out.body() = std::move(res.body);
  bhttp::response_serializer<bhttp::string_body> sr{out};
  beast::error_code ec;
  std::size_t bytes = 0;
  while (!sr.is_done() && !ec) {
    sr.next(ec, [&](beast::error_code&, const auto& buffers) {
      const auto n = beast::buffer_bytes(buffers);
      bytes += n;
      sr.consume(n);
    });
  }
}

// Parses one request from the front of `rest` (all of it: no more bytes
// will come). False when nothing more can be read.
bool read_one(std::string_view& rest, bhttp::request_parser<bhttp::string_body>& parser) {
  parser.header_limit(static_cast<std::uint32_t>(shop->limits.max_header_bytes));
  parser.body_limit(shop->limits.max_body_bytes);
  parser.eager(true);
  beast::error_code ec;
  while (!parser.is_done()) {
    const auto n = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
    rest.remove_prefix(n);
    if (ec && ec != bhttp::error::need_more) {
      return false;
    }
    if (n != 0 || parser.is_done()) {
      continue;
    }
    // No progress (in a body, put() takes an empty buffer without asking
    // for more): the peer has closed, as the server sees it.
    parser.put_eof(ec);
    if (ec) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  obs::init_logging("error");
  auto dir = std::filesystem::temp_directory_path() / "emporium-fuzz-http-XXXXXX";
  std::string templ = dir.string();
  if (::mkdtemp(templ.data()) == nullptr) {
    std::perror("mkdtemp");
    std::abort();
  }
  const std::map<std::string, std::string> flags = {
      {"data_dir", templ},
      {"log_level", "error"},
      {"admin_email", "admin@emporium.local"},
      {"admin_password", "fuzz-admin-password"},
      {"demo_catalog", "true"},
      {"backup_interval", "0s"},
  };
  const auto cfg = config::Config::load(settings_schema(), std::nullopt, {}, flags);
  shop = new Shop(cfg);
  std::atexit([] {
    delete shop;
    shop = nullptr;
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string input(reinterpret_cast<const char*>(data), size);
  replace_all(input, "@ADMIN@", shop->admin_token);
  replace_all(input, "@USER@", shop->user_token);
  std::string_view rest = input;
  for (int n = 0; n < 8 && !rest.empty(); ++n) {
    bhttp::request_parser<bhttp::string_body> parser;
    if (!read_one(rest, parser)) {
      return 0;
    }
    auto& msg = parser.get();
    http::Request req = to_request(msg);
    http::Response res = handle(req);
    check(req, res);
    serialise(std::move(res), msg.version(), msg.keep_alive());
    if (!msg.keep_alive()) {
      return 0;
    }
  }
  return 0;
}
