#pragma once

// Helpers for tests that check emails and event handling from the outside:
// maildev's REST API, metrics read off /metrics, and waiting.

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace emporium::test {

// The value of environment variable `name`; throws, saying how to start the
// test servers, when it is unset (these tests never skip).
std::string required_env(const char* name);

// The port at the end of a URL such as smtp://127.0.0.1:51025.
std::uint16_t port_of(const std::string& url);

// An email address no other test uses.
std::string unique_address(const std::string& who);

// Polls `done` every 50 ms until it is true or `limit` passes; its last answer.
bool eventually(const std::function<bool()>& done,
                std::chrono::milliseconds limit = std::chrono::seconds(20));

// mail[key] when it is a string, else "".
std::string text_of(const boost::json::object& mail, std::string_view key);

// maildev's REST API (EMPORIUM_TEST_MAILDEV_URL).
class Maildev {
 public:
  Maildev();
  // Every email maildev holds for `address`, oldest first.
  std::vector<boost::json::object> to(const std::string& address) const;
  // Waits until `address` has at least `n` emails; returns them all.
  std::vector<boost::json::object> wait(
      const std::string& address, std::size_t n,
      std::chrono::milliseconds limit = std::chrono::seconds(20)) const;

 private:
  std::uint16_t port_;
};

// The emails among `mails` whose subject contains `part`.
std::vector<boost::json::object> with_subject(const std::vector<boost::json::object>& mails,
                                              const std::string& part);

// A series of the process's /metrics on `port` (e.g.
// emporium_emails_sent_total{kind="welcome"}); 0 when absent, NaN when the
// process does not answer (so no comparison holds).
double metric(std::uint16_t port, const std::string& series);

// The status field of the process's GET /readyz ("ready", "degraded",
// "not ready"), or "no answer".
std::string readiness_status(std::uint16_t port);

// Events the notification queue of the process on `port` handled.
inline const std::string kNotificationsHandled =
    R"(emporium_bus_consumed_total{queue="notification"})";

}  // namespace emporium::test
