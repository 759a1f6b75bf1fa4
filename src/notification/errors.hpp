#pragma once

#include <exception>
#include <string>
#include <string_view>

namespace emporium::notification {

// Why a delivery of an event sent no email and must be tried again. The
// service serves no routes: these are the failure values of its bus handler
// (Notifier::deliver), which Notifier::handle turns into the exception the
// bus expects (see throw_for_bus). The bus treats every failure alike — it
// retries with backoff and dead-letters the event after its last attempt —
// so `transient` says whether a later attempt can succeed, for a reader and
// the logs, not for the bus.
enum class Error {
  malformed_event,  // permanent: the payload breaks its schema, or its version is not 1
  claim_held,       // transient: another delivery holds a live claim and is sending it
  send_failed,      // transient: the mail server was down, too slow, or answered 4xx
  send_refused,     // permanent: the server refused the mail for good (5xx), or the
                    // mail cannot be written (an address or header the sender refuses)
};

// What an error code means: whether retrying can help, and the text reported
// when the failure carries no detail of its own.
struct ErrorSpec {
  bool transient = false;
  std::string_view error;
};

// The one table: code -> transient, text.
const ErrorSpec& spec(Error code) noexcept;

// A failed delivery: the code, a detail naming the event or the cause (the
// table's text when empty), and, for a failed send, the sender's exception.
struct Failure {
  Error code{};
  std::string detail{};
  std::exception_ptr cause{};
};

// Throws what the bus handler has always thrown for `failure`: the sender's
// own exception when there is one, std::invalid_argument for a malformed
// event, else core::Error (transient as the table says).
[[noreturn]] void throw_for_bus(const Failure& failure);

}  // namespace emporium::notification
