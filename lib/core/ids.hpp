#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace emporium::core {

// A random identifier from the OS CSPRNG: 32 lower-case hex characters.
std::string new_id();
// A random secret token: 43 URL-safe base64 characters (256 bits).
std::string new_token();
// Hex SHA-256 of `data`, for storing tokens without storing them.
std::string sha256_hex(std::string_view data);
// True when `s` has the shape new_id() produces.
bool is_id(std::string_view s) noexcept;

// Current UTC time as ISO 8601 with milliseconds: 2026-11-25T17:00:00.000Z.
std::string now_iso8601();
std::string to_iso8601(std::chrono::system_clock::time_point t);
std::int64_t unix_seconds();

}  // namespace emporium::core
