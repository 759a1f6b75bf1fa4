#include "mail/smtp.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "core/error.hpp"
#include "core/ids.hpp"

namespace emporium::mail {

namespace {

// Longest encoded word is 75 characters: "=?UTF-8?B?" + base64 + "?=" leaves
// 63 for base64, i.e. at most 45 bytes of text (60 characters).
constexpr std::size_t kEncodedChunk = 45;
// RFC 5322 limits a line to 998 octets plus CRLF; break body lines earlier.
constexpr std::size_t kMaxBodyLine = 990;

std::once_flag curl_init_once;

bool is_control(unsigned char c) noexcept {
  return c < 0x20 || c == 0x7f;
}

void refuse_controls(std::string_view text, std::string_view what) {
  for (unsigned char c : text) {
    if (is_control(c)) {
      throw std::invalid_argument(std::string(what) + " holds a control character (CR, LF, ...)");
    }
  }
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && s.front() == ' ') {
    s.remove_prefix(1);
  }
  while (!s.empty() && s.back() == ' ') {
    s.remove_suffix(1);
  }
  return s;
}

bool is_continuation(unsigned char c) noexcept {
  return (c & 0xC0) == 0x80;
}

void check_address(std::string_view a) {
  const auto at = a.find('@');
  if (a.empty() || a.size() > 254 || at == std::string_view::npos || at == 0 ||
      at + 1 == a.size() || a.find('@', at + 1) != std::string_view::npos) {
    throw std::invalid_argument("not an email address: '" + std::string(a) + "'");
  }
  for (char c : a) {
    if (std::strchr(" <>()[],;:\\\"", c) != nullptr) {
      throw std::invalid_argument("not an email address: '" + std::string(a) + "'");
    }
  }
}

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

// RFC 5322 "atext" plus space: a display name that needs no quotes.
bool plain_phrase(std::string_view s) noexcept {
  for (unsigned char c : s) {
    const bool ok =
        std::isalnum(c) != 0 || c == ' ' || std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr;
    if (!ok || c >= 0x80) {
      return false;
    }
  }
  return true;
}

bool ascii(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

std::string display_name(std::string_view name) {
  if (plain_phrase(name)) {
    return std::string(name);
  }
  if (ascii(name) && name.find("=?") == std::string_view::npos) {
    std::string quoted = "\"";
    for (char c : name) {
      if (c == '"' || c == '\\') {
        quoted += '\\';
      }
      quoted += c;
    }
    return quoted + "\"";
  }
  return encode_header_text(name);
}

std::string mailbox_header(const Mailbox& m) {
  if (m.name.empty()) {
    return m.address;
  }
  return display_name(m.name) + " <" + m.address + ">";
}

std::string rfc5322_date(std::chrono::system_clock::time_point t) {
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays.at(tm.tm_wday),
                tm.tm_mday, kMonths.at(tm.tm_mon), tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

void check_id(std::string_view id) {
  if (id.size() > 200) {
    throw std::invalid_argument("Mail::id is longer than 200 characters");
  }
  for (unsigned char c : id) {
    if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '@' || c == '"') {
      throw std::invalid_argument("Mail::id holds a character not allowed in a Message-ID");
    }
  }
}

// Every line ending becomes CRLF; long lines are broken (between UTF-8
// sequences); NUL bytes, which 8bit forbids, are dropped.
std::string body_lines(std::string_view body) {
  std::string out;
  out.reserve(body.size() + body.size() / 32 + 2);
  std::size_t line = 0;
  for (std::size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < body.size() && body[i + 1] == '\n') {
        ++i;
      }
      out += "\r\n";
      line = 0;
      continue;
    }
    if (c == '\0') {
      continue;
    }
    if (line >= kMaxBodyLine && !is_continuation(static_cast<unsigned char>(c))) {
      out += "\r\n";
      line = 0;
    }
    out += c;
    ++line;
  }
  if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) {
    out += "\r\n";
  }
  return out;
}

struct Upload {
  std::string_view data;
  std::size_t pos = 0;
};

size_t read_upload(char* buffer, size_t size, size_t count, void* userdata) {
  auto* u = static_cast<Upload*>(userdata);
  const std::size_t n = std::min(size * count, u->data.size() - u->pos);
  std::memcpy(buffer, u->data.data() + u->pos, n);
  u->pos += n;
  return n;
}

struct CurlDeleter {
  void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
  void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};

}  // namespace

Mailbox parse_mailbox(std::string_view text) {
  refuse_controls(text, "mailbox");
  text = trim(text);
  Mailbox m;
  const auto open = text.rfind('<');
  if (!text.empty() && text.back() == '>' && open != std::string_view::npos) {
    m.address = std::string(trim(text.substr(open + 1, text.size() - open - 2)));
    auto name = trim(text.substr(0, open));
    if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
      name = name.substr(1, name.size() - 2);
      for (std::size_t i = 0; i < name.size(); ++i) {
        if (name[i] == '\\' && i + 1 < name.size()) {
          ++i;
        }
        m.name += name[i];
      }
    } else {
      m.name = std::string(name);
    }
  } else {
    m.address = std::string(text);
  }
  check_address(m.address);
  return m;
}

std::string encode_header_text(std::string_view text) {
  refuse_controls(text, "header text");
  if (ascii(text) && text.find("=?") == std::string_view::npos) {
    return std::string(text);
  }
  std::string out;
  while (!text.empty()) {
    std::size_t n = std::min(kEncodedChunk, text.size());
    // Never split a UTF-8 sequence between two encoded words.
    std::size_t cut = n;
    while (cut < text.size() && cut > 0 && is_continuation(static_cast<unsigned char>(text[cut]))) {
      --cut;
    }
    if (cut > 0) {
      n = cut;
    }
    if (!out.empty()) {
      out += "\r\n ";
    }
    out += "=?UTF-8?B?" + base64(text.substr(0, n)) + "?=";
    text.remove_prefix(n);
  }
  return out;
}

std::string format_message(const Mail& mail, std::chrono::system_clock::time_point date) {
  const auto from = parse_mailbox(mail.from);
  const auto to = parse_mailbox(mail.to);
  check_id(mail.id);
  const auto domain = from.address.substr(from.address.find('@') + 1);
  const std::string id = mail.id.empty() ? core::new_id() : mail.id;
  std::string m;
  m.reserve(mail.body.size() + 512);
  m += "Date: " + rfc5322_date(date) + "\r\n";
  m += "From: " + mailbox_header(from) + "\r\n";
  m += "To: " + mailbox_header(to) + "\r\n";
  m += "Subject: " + encode_header_text(mail.subject) + "\r\n";
  m += "Message-ID: <" + id + "@" + domain + ">\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: text/plain; charset=utf-8\r\n";
  m += "Content-Transfer-Encoding: 8bit\r\n";
  m += "\r\n";
  m += body_lines(mail.body);
  return m;
}

SmtpSender::SmtpSender(std::string url, std::chrono::milliseconds timeout)
    : url_(std::move(url)), timeout_(timeout) {
  const auto scheme_end = url_.find("://");
  const auto scheme = url_.substr(0, scheme_end == std::string::npos ? 0 : scheme_end);
  if (scheme != "smtp" && scheme != "smtps") {
    throw std::invalid_argument("SMTP URL must start with smtp:// or smtps://");
  }
  const auto rest = url_.substr(scheme_end + 3);
  const auto authority_end = rest.find_first_of("/?#");
  const auto authority = rest.substr(0, authority_end);
  const auto at = authority.rfind('@');
  const auto host = at == std::string::npos ? authority : authority.substr(at + 1);
  if (host.empty() || host.front() == ':') {
    throw std::invalid_argument("SMTP URL has no host");
  }
  redacted_ = scheme + "://";
  if (at != std::string::npos) {
    const auto userinfo = authority.substr(0, at);
    const auto colon = userinfo.find(':');
    redacted_ += (colon == std::string::npos ? userinfo : userinfo.substr(0, colon) + ":***") + "@";
  }
  redacted_ += host;
  if (authority_end != std::string::npos) {
    redacted_ += rest.substr(authority_end);
  }
  std::call_once(curl_init_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

namespace {

// "<address>", as MAIL FROM and RCPT TO take it. Appended piecewise: GCC 12
// at -O3 reports a false -Wrestrict on `"<" + s + ">"`.
std::string angle_addr(std::string_view address) {
  std::string out;
  out.reserve(address.size() + 2);
  out += '<';
  out += address;
  out += '>';
  return out;
}

}  // namespace

void SmtpSender::send(const Mail& mail) {
  const std::string message = format_message(mail, std::chrono::system_clock::now());
  const std::string from = angle_addr(parse_mailbox(mail.from).address);
  const std::string to = angle_addr(parse_mailbox(mail.to).address);

  std::unique_ptr<CURL, CurlDeleter> h(curl_easy_init());
  if (!h) {
    throw core::Error("smtp " + redacted_ + ": curl_easy_init failed", true);
  }
  std::unique_ptr<curl_slist, CurlDeleter> rcpt(curl_slist_append(nullptr, to.c_str()));
  if (!rcpt) {
    throw core::Error("smtp " + redacted_ + ": out of memory", true);
  }
  Upload upload{message};
  char error[CURL_ERROR_SIZE] = {};
  CURL* c = h.get();
  curl_easy_setopt(c, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.get());
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, &read_upload);
  curl_easy_setopt(c, CURLOPT_READDATA, &upload);
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count()));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout_.count()));
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  const CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) {
    return;
  }
  long reply = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply);
  std::string why = error[0] != '\0' ? error : curl_easy_strerror(rc);
  if (reply != 0) {
    why += " (server replied " + std::to_string(reply) + ")";
  }
  const bool refused_for_good = reply >= 500 && reply < 600;
  throw core::Error("smtp " + redacted_ + ": " + why, !refused_for_good,
                    rc == CURLE_OPERATION_TIMEDOUT);
}

}  // namespace emporium::mail
