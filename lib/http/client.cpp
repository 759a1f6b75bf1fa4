#include "http/client.hpp"

#include <curl/curl.h>

#include <random>
#include <stdexcept>
#include <thread>

namespace emporium::http {

void throw_exception_from_error(const ClientError& e, const boost::source_location&) {
  throw std::runtime_error("http client: " + e.message);
}

namespace {

std::once_flag curl_init_once;

std::size_t append_body(char* data, std::size_t size, std::size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

std::size_t append_header(char* data, std::size_t size, std::size_t n, void* user) {
  std::string_view line(data, size * n);
  auto* headers = static_cast<Headers*>(user);
  if (line.rfind("HTTP/", 0) == 0) {
    *headers = Headers{};  // a new response (after 100 Continue or a redirect)
    return size * n;
  }
  const auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    auto value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) {
      value.remove_prefix(1);
    }
    while (!value.empty() &&
           (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
      value.remove_suffix(1);
    }
    headers->add(line.substr(0, colon), value);
  }
  return size * n;
}

// Methods safe to send twice. PUT and DELETE are idempotent in HTTP's sense,
// but the API's DELETE answers 409 or 404 the second time, so they are
// retried only with an Idempotency-Key.
bool idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS";
}

bool retryable_status(int status) {
  return status == 502 || status == 503 || status == 504;
}

// The target, deadlines and response sinks of one transfer on `h`.
void set_transfer(CURL* h, const std::string& url, std::chrono::milliseconds budget,
                  std::chrono::milliseconds connect_timeout, Response& res) {
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(std::max<std::int64_t>(1, budget.count())));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::min(budget, connect_timeout).count() + 1));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, append_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &res.body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, append_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &res.headers);
}

// The method and, for a body or a method that carries one, the body.
// `method` must outlive the transfer.
void set_method(CURL* h, const std::string& method, std::string_view body) {
  if (method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (method != "GET") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  }
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, std::string(body).c_str());
    if (method != "POST") {
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
    }
  }
}

// The request headers: no "Expect: 100-continue", a JSON Content-Type for a
// body unless the caller set one, the request id, then the caller's headers.
// The caller frees the list with curl_slist_free_all.
curl_slist* request_headers(std::string_view body, const CallOptions& options) {
  curl_slist* headers = curl_slist_append(nullptr, "Expect:");
  if (!body.empty() && !options.headers.has("Content-Type")) {
    headers = curl_slist_append(headers, "Content-Type: application/json");
  }
  if (!options.request_id.empty()) {
    headers = curl_slist_append(headers, ("X-Request-Id: " + options.request_id).c_str());
  }
  std::string line;
  for (const auto& [k, v] : options.headers.fields()) {
    line.assign(k).append(": ").append(v);
    headers = curl_slist_append(headers, line.c_str());
  }
  return headers;
}

ClientErrc error_code(CURLcode rc) {
  if (rc == CURLE_OPERATION_TIMEDOUT) {
    return ClientErrc::timeout;
  }
  if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST) {
    return ClientErrc::connect_failed;
  }
  return ClientErrc::transport;
}

}  // namespace

// Idle easy handles; each keeps its connection alive between calls.
struct Client::Pool {
  std::mutex mutex;
  std::vector<CURL*> idle;
  std::size_t max_idle;

  explicit Pool(std::size_t max) : max_idle(max) {}
  ~Pool() {
    for (auto* h : idle) {
      curl_easy_cleanup(h);
    }
  }
  CURL* take() {
    {
      std::lock_guard lock(mutex);
      if (!idle.empty()) {
        CURL* h = idle.back();
        idle.pop_back();
        curl_easy_reset(h);  // keeps the live connection
        return h;
      }
    }
    return curl_easy_init();
  }
  void give_back(CURL* h) {
    std::lock_guard lock(mutex);
    if (idle.size() < max_idle) {
      idle.push_back(h);
    } else {
      curl_easy_cleanup(h);
    }
  }
};

Client::Client(ClientOptions options, obs::Registry* metrics)
    : options_(std::move(options)), pool_(std::make_unique<Pool>(options_.max_idle_connections)) {
  std::call_once(curl_init_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  while (!options_.base_url.empty() && options_.base_url.back() == '/') {
    options_.base_url.pop_back();
  }
  if (metrics != nullptr) {
    calls_ = &metrics->counter("emporium_http_client_calls_total",
                               "Calls to upstream services, by upstream and outcome.",
                               {"upstream", "outcome"});
    breaker_open_ =
        &metrics
             ->gauge("emporium_http_client_breaker_open",
                     "1 while the circuit breaker to an upstream is open.", {"upstream"})
             .with({options_.name});
  }
}

Client::~Client() = default;

Client::BreakerState Client::breaker_state() const {
  std::lock_guard lock(breaker_mutex_);
  if (state_ == BreakerState::open && std::chrono::steady_clock::now() >= open_until_) {
    return BreakerState::half_open;
  }
  return state_;
}

bool Client::admit() {
  std::lock_guard lock(breaker_mutex_);
  if (state_ == BreakerState::closed) {
    return true;
  }
  if (state_ == BreakerState::open) {
    if (std::chrono::steady_clock::now() < open_until_) {
      return false;
    }
    state_ = BreakerState::half_open;
    probe_in_flight_ = false;
  }
  if (probe_in_flight_) {
    return false;
  }
  probe_in_flight_ = true;
  return true;
}

void Client::record(bool success) {
  std::lock_guard lock(breaker_mutex_);
  if (success) {
    consecutive_failures_ = 0;
    state_ = BreakerState::closed;
    probe_in_flight_ = false;
  } else {
    ++consecutive_failures_;
    if (state_ == BreakerState::half_open || consecutive_failures_ >= options_.breaker_threshold) {
      state_ = BreakerState::open;
      open_until_ = std::chrono::steady_clock::now() + options_.breaker_open_for;
      probe_in_flight_ = false;
    }
  }
  if (breaker_open_ != nullptr) {
    breaker_open_->set(state_ == BreakerState::open ? 1.0 : 0.0);
  }
}

ClientResult Client::attempt(std::string_view method, const std::string& url, std::string_view body,
                             const CallOptions& options, std::chrono::milliseconds budget) {
  CURL* h = pool_->take();
  if (h == nullptr) {
    return ClientError{ClientErrc::transport, "curl_easy_init failed"};
  }
  struct Lease {
    Pool& pool;
    CURL* h;
    curl_slist* headers = nullptr;
    bool keep = true;
    ~Lease() {
      curl_slist_free_all(headers);
      if (keep) {
        pool.give_back(h);
      } else {
        curl_easy_cleanup(h);
      }
    }
  } lease{*pool_, h};

  Response res;
  const std::string method_str(method);
  set_transfer(h, url, budget, options_.connect_timeout, res);
  set_method(h, method_str, body);
  lease.headers = request_headers(body, options);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, lease.headers);

  const CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    lease.keep = false;  // the connection is in an unknown state
    return ClientError{error_code(rc), std::string(curl_easy_strerror(rc)) + " (" + url + ")"};
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  res.status = static_cast<int>(status);
  return res;
}

ClientResult Client::call(std::string_view method, std::string_view path, std::string_view body,
                          const CallOptions& options) {
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + options.timeout.value_or(options_.timeout);
  const bool may_retry = idempotent(method) || options.headers.has("Idempotency-Key");
  const std::string url = options_.base_url + std::string(path);
  thread_local std::mt19937_64 rng{std::random_device{}()};

  ClientResult last = ClientError{ClientErrc::timeout, "deadline passed before the first attempt"};
  for (int n = 0; n < std::max(1, options_.max_attempts); ++n) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    if (left.count() <= 0) {
      break;
    }
    if (!admit()) {
      last = ClientError{ClientErrc::circuit_open, "circuit open for " + options_.name};
      if (calls_ != nullptr) {
        calls_->with({options_.name, "circuit_open"}).inc();
      }
      return last;
    }
    last = attempt(method, url, body, options, left);
    const bool failed = !last.has_value() || last->status >= 500;
    record(!failed);
    if (calls_ != nullptr) {
      calls_->with({options_.name, !last.has_value() ? "error" : failed ? "5xx" : "ok"}).inc();
    }
    const bool retry = may_retry && (!last.has_value() || retryable_status(last->status));
    if (!retry || n + 1 >= options_.max_attempts) {
      break;
    }
    const auto cap = std::min<std::int64_t>(options_.backoff_max.count(),
                                            options_.backoff_base.count() << std::min(n, 20));
    std::uniform_int_distribution<std::int64_t> jitter(0, std::max<std::int64_t>(0, cap));
    const auto pause = std::chrono::milliseconds(jitter(rng));
    if (clock::now() + pause >= deadline) {
      break;
    }
    std::this_thread::sleep_for(pause);
  }
  return last;
}

}  // namespace emporium::http
