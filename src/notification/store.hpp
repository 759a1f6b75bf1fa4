#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "db/db.hpp"

namespace emporium::notification {

// What a delivery's claim on an event's email came to (see Store::claim).
enum class Claim {
  claimed,       // this delivery holds the claim: it may send
  already_sent,  // the email went out earlier: nothing to send
  held,          // another delivery holds a live claim: try again later
};

// One delivery's claim on the email of an event.
struct ClaimRequest {
  std::string event_id;
  std::string kind;
  std::string recipient;
  std::int64_t now_ms = 0;         // Unix milliseconds
  std::int64_t claimed_until = 0;  // Unix milliseconds; later than now_ms
};

// The record of which events' emails went out, one row per event id, so that
// an event delivered twice sends one email. Every method throws (db::DbError,
// core::Error) when the database fails.
class Store {
 public:
  virtual ~Store() = default;

  // True when the email of `event_id` was marked sent.
  virtual bool is_sent(const std::string& event_id) = 0;

  // Claims the event's email for this delivery until `claimed_until`: inserts
  // a claim, or takes over the row of an earlier delivery that is not sent
  // and whose claim has lapsed (released after a failure, or expired), adding
  // one to its attempts. Otherwise reports already_sent or held.
  virtual Claim claim(const ClaimRequest& request) = 0;

  // Marks the email of `event_id` sent (the mail server accepted it).
  virtual void mark_sent(const std::string& event_id) = 0;

  // Releases this delivery's claim (the one made until `claimed_until`) after
  // a failed send, keeping `error`; the next delivery may claim it at once.
  // Does nothing when another delivery has taken the claim over since.
  virtual void release(const std::string& event_id, std::string_view error,
                       std::int64_t claimed_until) = 0;
};

// The Store on the service's database: the sent_emails table
// (migrations/0001_notifications.sql). `db` must outlive the store.
class SqlStore final : public Store {
 public:
  explicit SqlStore(db::Database& db) : db_(db) {}

  bool is_sent(const std::string& event_id) override;
  Claim claim(const ClaimRequest& request) override;
  void mark_sent(const std::string& event_id) override;
  void release(const std::string& event_id, std::string_view error,
               std::int64_t claimed_until) override;

 private:
  db::Database& db_;
};

}  // namespace emporium::notification
