#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <semaphore>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "user/errors.hpp"

namespace emporium::user {

// True when `password`, compared case-insensitively (ASCII letters), is on
// the list of the most common breached passwords the binary carries
// (src/user/data/common_passwords.txt, see its README: the passwords of 10
// to 128 characters among the 100,000 most common of SecLists' "10 million
// passwords" list, lowercased). Shorter ones are refused by length anyway.
bool is_common_password(std::string_view password);

// The field message for a new password on that list.
inline constexpr std::string_view kCommonPasswordMessage =
    "Is one of the most common passwords (found in data breaches); choose another";

// Password hashing as the handlers use it. Both calls fail with
// Error::hashing_busy when no hashing capacity frees up in time.
class Passwords {
 public:
  virtual ~Passwords() = default;

  // The encoded hash to store for `password`.
  virtual core::Result<std::string, Error> hash(std::string_view password) = 0;
  // Whether `password` matches `encoded`. With no `encoded` (an unknown
  // account) false, after as long as a real check takes, so that a caller
  // cannot tell unknown emails from wrong passwords by timing.
  virtual core::Result<bool, Error> verify(std::optional<std::string_view> encoded,
                                           std::string_view password) = 0;
};

// argon2id (auth::hash_password) with at most `slots` computations at once:
// each takes 19 MiB and tens of milliseconds of a core, so a flood of
// sign-ins cannot take every worker thread from the rest of the shop. Excess
// callers wait up to `wait` for a slot, then fail with hashing_busy.
// Computes one hash at construction (the stand-in for unknown accounts).
class Argon2Passwords final : public Passwords {
 public:
  static constexpr std::ptrdiff_t kMaxSlots = 64;

  explicit Argon2Passwords(std::ptrdiff_t slots = 4,
                           std::chrono::milliseconds wait = std::chrono::seconds(3));

  core::Result<std::string, Error> hash(std::string_view password) override;
  core::Result<bool, Error> verify(std::optional<std::string_view> encoded,
                                   std::string_view password) override;

 private:
  std::counting_semaphore<kMaxSlots> slots_;
  std::chrono::milliseconds wait_;
  std::string dummy_hash_;
};

}  // namespace emporium::user
