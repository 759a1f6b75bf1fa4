#include "user/passwords.hpp"

#include <cctype>
#include <unordered_set>

#include "auth/auth.hpp"
#include "common/embedded.hpp"
#include "core/ids.hpp"

namespace emporium::user {

namespace {

// Holds one hashing slot for its lifetime, when it got one.
class Slot {
 public:
  Slot(std::counting_semaphore<Argon2Passwords::kMaxSlots>& slots, std::chrono::milliseconds wait)
      : slots_(slots), held_(slots.try_acquire_for(wait)) {}
  ~Slot() {
    if (held_) {
      slots_.release();
    }
  }
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;

  bool held() const noexcept { return held_; }

 private:
  std::counting_semaphore<Argon2Passwords::kMaxSlots>& slots_;
  bool held_;
};

// The list, parsed once: one password a line.
const std::unordered_set<std::string_view>& common_passwords() {
  static const std::unordered_set<std::string_view> kList = [] {
    std::unordered_set<std::string_view> set;
    for (const auto& [name, text] : embedded::common_passwords()) {
      std::string_view rest = text;
      while (!rest.empty()) {
        const auto eol = rest.find('\n');
        auto line = rest.substr(0, eol);
        if (!line.empty() && line.back() == '\r') {
          line.remove_suffix(1);
        }
        if (!line.empty()) {
          set.insert(line);
        }
        rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
      }
    }
    return set;
  }();
  return kList;
}

}  // namespace

bool is_common_password(std::string_view password) {
  std::string lower(password);
  for (auto& c : lower) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return common_passwords().contains(lower);
}

Argon2Passwords::Argon2Passwords(std::ptrdiff_t slots, std::chrono::milliseconds wait)
    : slots_(slots), wait_(wait), dummy_hash_(auth::hash_password(core::new_token())) {}

core::Result<std::string, Error> Argon2Passwords::hash(std::string_view password) {
  Slot slot(slots_, wait_);
  if (!slot.held()) {
    return core::fail(Error::hashing_busy);
  }
  return auth::hash_password(password);
}

core::Result<bool, Error> Argon2Passwords::verify(std::optional<std::string_view> encoded,
                                                  std::string_view password) {
  Slot slot(slots_, wait_);
  if (!slot.held()) {
    return core::fail(Error::hashing_busy);
  }
  return auth::verify_password(encoded.value_or(dummy_hash_), password);
}

}  // namespace emporium::user
