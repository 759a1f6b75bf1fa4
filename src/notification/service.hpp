#pragma once

#include "common/module.hpp"

namespace emporium::notification {

// The notification service: consumes order.*, user.registered and
// user.registration_attempted events (queue "notification") and sends one
// email per event (see Notifier), through SMTP when smtp_url is set, else
// into the log. It serves no routes of its own.
const ServiceModule& module();

}  // namespace emporium::notification
