#include "notification/errors.hpp"

#include <stdexcept>

#include "core/error.hpp"

namespace emporium::notification {

const ErrorSpec& spec(Error code) noexcept {
  static constexpr ErrorSpec kMalformed{false, "the event's payload is malformed"};
  static constexpr ErrorSpec kClaimHeld{true, "another delivery is sending this email"};
  static constexpr ErrorSpec kSendFailed{true, "the mail server did not accept the email"};
  static constexpr ErrorSpec kSendRefused{false, "the mail server refused the email"};
  switch (code) {
    case Error::malformed_event:
      return kMalformed;
    case Error::claim_held:
      return kClaimHeld;
    case Error::send_failed:
      return kSendFailed;
    case Error::send_refused:
      return kSendRefused;
  }
  return kSendFailed;
}

void throw_for_bus(const Failure& failure) {
  if (failure.cause) {
    std::rethrow_exception(failure.cause);
  }
  const auto& s = spec(failure.code);
  std::string what = failure.detail.empty() ? std::string(s.error) : failure.detail;
  if (failure.code == Error::malformed_event) {
    throw std::invalid_argument(what);
  }
  throw core::Error(what, s.transient);
}

}  // namespace emporium::notification
