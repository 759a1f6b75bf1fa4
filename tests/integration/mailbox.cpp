#include "mailbox.hpp"

#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <thread>

#include "core/ids.hpp"
#include "support.hpp"

namespace emporium::test {

namespace json = boost::json;

std::string required_env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') {
    throw std::runtime_error(
        std::string(name) +
        " is not set. Start the test servers first:\n"
        "  eval \"$(scripts/local-services.sh start /tmp/emporium-services)\"\n"
        "(the test command does this; these tests never skip)");
  }
  return v;
}

std::uint16_t port_of(const std::string& url) {
  return static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
}

std::string unique_address(const std::string& who) {
  return who + "." + core::new_id().substr(0, 12) + "@example.com";
}

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (done()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

std::string text_of(const json::object& mail, std::string_view key) {
  const auto* v = mail.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

Maildev::Maildev() : port_(port_of(required_env("EMPORIUM_TEST_MAILDEV_URL"))) {}

std::vector<json::object> Maildev::to(const std::string& address) const {
  auto res = request("GET", port_, "/api/email");
  if (!res || res->status != 200) {
    throw std::runtime_error("maildev did not answer GET /api/email");
  }
  std::vector<json::object> out;
  const auto all = json::parse(res->body);
  for (const auto& m : all.as_array()) {
    const auto& o = m.as_object();
    const auto* recipients = o.if_contains("to");
    if (recipients == nullptr || !recipients->is_array()) {
      continue;
    }
    for (const auto& r : recipients->get_array()) {
      if (r.is_object() && text_of(r.get_object(), "address") == address) {
        out.push_back(o);
        break;
      }
    }
  }
  return out;
}

std::vector<json::object> Maildev::wait(const std::string& address, std::size_t n,
                                        std::chrono::milliseconds limit) const {
  std::vector<json::object> mails;
  eventually([&] { return (mails = to(address)).size() >= n; }, limit);
  return mails;
}

std::vector<json::object> with_subject(const std::vector<json::object>& mails,
                                       const std::string& part) {
  std::vector<json::object> out;
  for (const auto& m : mails) {
    if (text_of(m, "subject").find(part) != std::string::npos) {
      out.push_back(m);
    }
  }
  return out;
}

double metric(std::uint16_t port, const std::string& series) {
  auto res = request("GET", admin_port(port), "/metrics");
  if (!res || res->status != 200) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  const auto at = res->body.find("\n" + series + " ");
  return at == std::string::npos ? 0 : std::stod(res->body.substr(at + series.size() + 2));
}

std::string readiness_status(std::uint16_t port) {
  auto res = request("GET", port, "/readyz");
  if (!res) {
    return "no answer";
  }
  try {
    return std::string(json::parse(res->body).at("status").as_string());
  } catch (const std::exception&) {
    return "unparsable: " + res->body;
  }
}

}  // namespace emporium::test
