#include "http/client.hpp"

#include <curl/curl.h>

#include <mutex>
#include <thread>
#include <vector>

namespace emporium::http {

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
    : options_(std::move(options)),
      pool_(std::make_unique<Pool>(options_.max_idle_connections)),
      policy_(options_, metrics) {
  std::call_once(curl_init_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  while (!options_.base_url.empty() && options_.base_url.back() == '/') {
    options_.base_url.pop_back();
  }
}

Client::~Client() = default;

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
  const bool may_retry = CallPolicy::may_retry(method, options);
  const std::string url = options_.base_url + std::string(path);

  ClientResult last = CallPolicy::deadline_passed();
  for (int n = 0; n < std::max(1, options_.max_attempts); ++n) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    if (left.count() <= 0) {
      break;
    }
    if (!policy_.admit()) {
      return policy_.circuit_open();
    }
    last = attempt(method, url, body, options, left);
    policy_.finished(last);
    const auto pause = policy_.pause_before_retry(last, may_retry, n, deadline);
    if (!pause) {
      break;
    }
    std::this_thread::sleep_for(*pause);
  }
  return last;
}

}  // namespace emporium::http
