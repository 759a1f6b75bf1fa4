#pragma once

#include <string>
#include <string_view>

namespace emporium::bus {

// The event types Emporium's services produce. Consumers bind topic patterns
// over them ("order.*", "#"). Their payloads (version 1) are described in
// lib/bus/event.schema.json.
namespace types {
inline constexpr std::string_view order_placed = "order.placed";
inline constexpr std::string_view order_cancelled = "order.cancelled";
inline constexpr std::string_view order_status_changed = "order.status_changed";
inline constexpr std::string_view user_registered = "user.registered";
// Someone tried to register an email that has an account (mode=production,
// where the answer does not say so): the owner is told.
inline constexpr std::string_view user_registration_attempted = "user.registration_attempted";
inline constexpr std::string_view product_stock_low = "product.stock_low";
}  // namespace types

// One domain event, as written to the outbox and carried on the bus.
//
// On the wire it is the JSON envelope of lib/bus/event.schema.json:
//   {"id":"…","type":"order.placed","time":"2026-11-25T17:00:00.000Z",
//    "version":1,"payload":{…}}
// Delivery is at least once: a relay resends after a crash and a consumer
// retries after a failure, so every consumer dedupes by `id`.
struct Event {
  std::string id{};       // unique per event; 1-255 printable ASCII characters
  std::string type{};     // dot-separated words of [a-z0-9_-]; the routing key
  std::string time{};     // when it happened: ISO 8601 UTC, as core::now_iso8601()
  int version = 1;        // version of this type's payload schema, >= 1
  std::string payload{};  // JSON object text
};

// An event of `type` with a fresh id (core::new_id()) and the current time.
// `payload` must be JSON object text (checked when it is encoded or stored).
Event make_event(std::string_view type, std::string payload, int version = 1);

// Throws std::invalid_argument naming the first problem unless `e` has a valid
// id, type, time and version and its payload is one JSON object.
void validate(const Event& e);

// Encodes the JSON envelope. The payload text is copied verbatim, so numbers
// keep the producer's formatting. Throws std::invalid_argument as validate().
std::string encode(const Event& e);

// Parses an envelope. Members other than the five are ignored, so a later
// envelope may add some. The payload comes back re-serialised (same value,
// whitespace removed). Throws std::invalid_argument naming the problem when
// `json` is not such an object or the event is invalid.
Event decode(std::string_view json);

// True when AMQP topic `pattern` matches routing key `key`: both are words
// separated by '.'; in the pattern, '*' stands for exactly one word and '#'
// for zero or more ("order.*" matches "order.placed", "#" matches anything).
bool topic_matches(std::string_view pattern, std::string_view key) noexcept;

// Throws std::invalid_argument unless `pattern` is a valid binding pattern:
// words of [a-z0-9_-], '*' or '#', separated by '.'.
void validate_pattern(std::string_view pattern);

}  // namespace emporium::bus
