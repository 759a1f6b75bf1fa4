#pragma once

#include <string_view>
#include <utility>
#include <vector>

// Files compiled into the binary (see cmake/embed.cmake): (name, contents).
namespace emporium::embedded {

std::vector<std::pair<std::string_view, std::string_view>> product_migrations();
std::vector<std::pair<std::string_view, std::string_view>> user_migrations();
std::vector<std::pair<std::string_view, std::string_view>> cart_migrations();
std::vector<std::pair<std::string_view, std::string_view>> order_migrations();
std::vector<std::pair<std::string_view, std::string_view>> notification_migrations();
// The notification service's mail templates (src/notification/templates/*.txt).
std::vector<std::pair<std::string_view, std::string_view>> mail_templates();
std::vector<std::pair<std::string_view, std::string_view>> demo_catalog();
// The most common breached passwords of 10+ characters, lowercased, one a
// line (src/user/data/common_passwords.txt).
std::vector<std::pair<std::string_view, std::string_view>> common_passwords();
// The built storefront (web/dist; path relative to it, bytes), variants included.
std::vector<std::pair<std::string_view, std::string_view>> storefront_assets();

}  // namespace emporium::embedded
