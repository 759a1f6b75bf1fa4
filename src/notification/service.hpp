#pragma once

#include <memory>

#include "services.hpp"

namespace emporium::notification {

// The notification service: consumes order.* and user.registered events
// (queue "notification") and sends one email per event (see Notifier), through
// SMTP when smtp_url is set, else into the log. It serves no routes of its own.
std::vector<db::Migration> migrations();
std::unique_ptr<Service> mount(ServiceContext& ctx);
// The queue it consumes and the event types bound to it.
const Subscription& subscription();

}  // namespace emporium::notification
