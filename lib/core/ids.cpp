#include "core/ids.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <array>
#include <ctime>
#include <stdexcept>

namespace emporium::core {

namespace {

void random_bytes(unsigned char* out, int n) {
  if (RAND_bytes(out, n) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
}

std::string hex(const unsigned char* p, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = digits[p[i] >> 4];
    out[2 * i + 1] = digits[p[i] & 0xF];
  }
  return out;
}

}  // namespace

std::string new_id() {
  std::array<unsigned char, 16> b{};
  random_bytes(b.data(), static_cast<int>(b.size()));
  return hex(b.data(), b.size());
}

std::string new_token() {
  std::array<unsigned char, 32> b{};
  random_bytes(b.data(), static_cast<int>(b.size()));
  std::array<unsigned char, 48> enc{};
  const int n = EVP_EncodeBlock(enc.data(), b.data(), static_cast<int>(b.size()));
  std::string out(reinterpret_cast<const char*>(enc.data()), static_cast<std::size_t>(n));
  for (auto& c : out) {
    c = c == '+' ? '-' : c == '/' ? '_' : c;
  }
  while (!out.empty() && out.back() == '=') {
    out.pop_back();
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> d{};
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), d.data());
  return hex(d.data(), d.size());
}

bool is_id(std::string_view s) noexcept {
  if (s.size() != 32) {
    return false;
  }
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

std::string to_iso8601(std::chrono::system_clock::time_point t) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  const auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buf;
}

std::string now_iso8601() {
  return to_iso8601(std::chrono::system_clock::now());
}

std::int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace emporium::core
