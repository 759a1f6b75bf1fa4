// JWT verification (lib/auth): an input is tried as a token as sent, in
// the Authorization header and in the session cookie; and, split at its
// first newline into a header and a claims part, signed with the
// verifier's own key (HMAC-SHA256) and verified, so that the claim checks
// (alg, iss, aud, exp, nbf, iat, sub, role, jti) see made-up claims behind a
// valid signature.
//
// Findings besides sanitizer reports: a token accepted without a subject,
// a role or an id, or one signed with another key accepted.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "auth/auth.hpp"
#include "http/message.hpp"

namespace {

using namespace emporium;

constexpr std::string_view kSecret = "fuzz-secret-0123456789abcdef0123456789";

const auth::Tokens& tokens() {
  static const auth::Tokens t(auth::TokenSettings{.secret = std::string(kSecret)});
  return t;
}

std::string base64url(std::string_view in) {
  std::string out((in.size() + 2) / 3 * 4 + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  out.resize(static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '=') {
    out.pop_back();
  }
  for (auto& c : out) {
    c = c == '+' ? '-' : c == '/' ? '_' : c;
  }
  return out;
}

std::string sign(std::string_view header, std::string_view claims, std::string_view key) {
  std::string token = base64url(header) + "." + base64url(claims);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(token.data()), token.size(), mac, &len);
  return token + "." + base64url(std::string_view(reinterpret_cast<const char*>(mac), len));
}

void check_accepted(const auth::Identity& id) {
  if (id.subject.empty() || id.role.empty() || id.jti.empty()) {
    std::fprintf(stderr, "fuzz_jwt: token accepted without sub, role or jti\n");
    std::abort();
  }
}

void verify(std::string_view token) {
  const auto& t = tokens();
  for (auto audience : {t.settings().audience, t.settings().internal_audience}) {
    if (auto id = t.verify(token, audience)) {
      check_accepted(*id);
    }
  }
}

void authenticate(std::string_view header, std::string_view value) {
  http::Request req;
  req.headers.add(header, value);
  if (auto id = auth::authenticate(req, tokens())) {
    check_accepted(*id);
  }
  if (auto id = auth::authenticate_service(req, tokens())) {
    check_accepted(*id);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  verify(input);
  authenticate("Authorization", input);
  authenticate("Cookie", input);
  const auto newline = input.find('\n');
  if (newline == std::string_view::npos) {
    return 0;
  }
  const auto header = input.substr(0, newline);
  const auto claims = input.substr(newline + 1);
  verify(sign(header, claims, kSecret));
  const std::string forged = sign(header, claims, "another-key-0123456789abcdef0123456");
  const auto& t = tokens();
  for (auto audience : {t.settings().audience, t.settings().internal_audience}) {
    if (t.verify(forged, audience)) {
      std::fprintf(stderr, "fuzz_jwt: a token signed with another key was accepted\n");
      std::abort();
    }
  }
  return 0;
}
