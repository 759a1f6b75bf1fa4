#pragma once

#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "mail/smtp.hpp"
#include "notification/handlers.hpp"
#include "notification/store.hpp"

namespace emporium::notification::testing {

// One row of the fake sent_emails table.
struct Row {
  std::string kind;
  std::string recipient;
  std::string status;  // "sending" or "sent"
  int attempts = 0;
  std::int64_t claimed_until = 0;
  std::string last_error;
};

// The Store in memory, with the SqlStore's rules: a claim takes a row that
// is absent, or not sent with a lapsed claim. `fail_release` makes release()
// throw, as a database that went away would.
class FakeStore final : public Store {
 public:
  bool is_sent(const std::string& event_id) override {
    ++reads;
    const auto it = rows.find(event_id);
    return it != rows.end() && it->second.status == "sent";
  }

  Claim claim(const ClaimRequest& r) override {
    claims.push_back(r);
    auto it = rows.find(r.event_id);
    if (it == rows.end()) {
      rows.emplace(r.event_id, Row{r.kind, r.recipient, "sending", 1, r.claimed_until, ""});
      return Claim::claimed;
    }
    auto& row = it->second;
    if (row.status == "sent") {
      return Claim::already_sent;
    }
    if (row.claimed_until >= r.now_ms) {
      return Claim::held;
    }
    row.recipient = r.recipient;
    row.attempts += 1;
    row.claimed_until = r.claimed_until;
    return Claim::claimed;
  }

  void mark_sent(const std::string& event_id) override {
    auto& row = rows.at(event_id);
    row.status = "sent";
    row.claimed_until = 0;
    row.last_error.clear();
  }

  void release(const std::string& event_id, std::string_view error,
               std::int64_t claimed_until) override {
    if (fail_release) {
      throw std::runtime_error("database is gone");
    }
    auto& row = rows.at(event_id);
    if (row.status == "sending" && row.claimed_until == claimed_until) {
      row.claimed_until = 0;
      row.last_error = std::string(error);
    }
  }

  std::map<std::string, Row> rows;
  std::vector<ClaimRequest> claims;
  int reads = 0;
  bool fail_release = false;
};

// Records the mails it accepts; `fail` (when set) is thrown instead.
class FakeSender final : public mail::Sender {
 public:
  void send(const mail::Mail& m) override {
    ++attempts;
    if (fail) {
      std::rethrow_exception(fail);
    }
    sent.push_back(m);
  }

  std::vector<mail::Mail> sent;
  int attempts = 0;
  std::exception_ptr fail;
};

// Users by id; counts the lookups. `down` makes find() throw as the user
// service being unreachable would.
class FakeDirectory final : public Directory {
 public:
  std::optional<svc::UserProfile> find(const std::string& user_id,
                                       const std::string& request_id) override {
    ++lookups;
    last_request_id = request_id;
    if (down) {
      throw core::Error("user service unavailable", true);
    }
    const auto it = users.find(user_id);
    if (it == users.end()) {
      return std::nullopt;
    }
    return it->second;
  }

  std::map<std::string, svc::UserProfile> users;
  int lookups = 0;
  std::string last_request_id;
  bool down = false;
};

}  // namespace emporium::notification::testing
