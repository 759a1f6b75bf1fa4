#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bus/event.hpp"

namespace emporium::notification {

// Values for a template's {{placeholders}}.
using Vars = std::map<std::string, std::string, std::less<>>;

// A mail template file: its first line is "Subject: …", the rest (after one
// optional empty line) is the body. Both may hold {{name}} placeholders.
struct Template {
  std::string subject;
  std::string body;
};

// Parses a template file. Throws std::invalid_argument naming `name` when the
// first line is not "Subject: " followed by text.
Template parse_template(std::string_view name, std::string_view text);

// Replaces every {{key}} (spaces inside the braces allowed) with vars[key].
// Throws std::invalid_argument for an unknown key or an unclosed "{{".
std::string render(std::string_view text, const Vars& vars);

// Integer minor units as a decimal amount with two decimals, exactly:
// 4998 -> "49.98", 5 -> "0.05", -150 -> "-1.50".
std::string format_cents(std::int64_t cents);

// The mails the service sends, by kind; each has templates/<kind>.txt.
inline constexpr std::string_view kOrderPlaced = "order_placed";
inline constexpr std::string_view kOrderStatusChanged = "order_status_changed";
inline constexpr std::string_view kOrderCancelled = "order_cancelled";
inline constexpr std::string_view kWelcome = "welcome";
inline constexpr std::string_view kRegistrationAttempt = "registration_attempt";
inline constexpr std::string_view kKinds[] = {kOrderPlaced, kOrderStatusChanged, kOrderCancelled,
                                              kWelcome, kRegistrationAttempt};

// Every kind's template, checked once at start-up.
class Templates {
 public:
  // From (file name, contents) pairs such as embedded::mail_templates().
  // Throws std::invalid_argument when a kind has no <kind>.txt, or a file is
  // malformed (see parse_template).
  explicit Templates(const std::vector<std::pair<std::string_view, std::string_view>>& files);
  // Throws std::out_of_range for a kind without a template.
  const Template& get(std::string_view kind) const;

 private:
  std::map<std::string, Template, std::less<>> templates_;
};

// What an event asks for: a mail of `kind` to the user `user_id` (whose
// address and name the event may already carry), with these values.
struct Notice {
  std::string kind;
  std::string user_id;
  std::string email;  // empty: look the user up
  std::string name;
  Vars vars;  // without "name": the recipient's name is added later
};

// Reads a version-1 event. Returns nullopt for events that ask for no mail:
// other types, and order.status_changed to "cancelled" (order.cancelled
// tells the customer). Throws std::invalid_argument when the payload lacks a
// member its schema requires, has one of the wrong type, or the version is
// not 1.
std::optional<Notice> notice_for(const bus::Event& event);

// A rendered mail.
struct Rendered {
  std::string subject;  // one line: control characters from values become spaces
  std::string body;
};

// Renders `t` with `vars`. Throws as render().
Rendered render(const Template& t, const Vars& vars);

// How to greet a recipient: their name, or "there" when they gave none.
std::string greeting_name(std::string_view name);

}  // namespace emporium::notification
