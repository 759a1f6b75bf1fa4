#include "mail/smtp.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <chrono>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "core/error.hpp"

namespace emporium::mail {
namespace {

using namespace std::chrono_literals;

const auto kDate = std::chrono::sys_days{std::chrono::November / 25 / 2026} + 17h + 4min + 5s;

Mail sample() {
  return Mail{"Emporium <shop@emporium.local>", "ann@example.com", "Your order",
              "Hello Ann,\nthanks.\n", "3f2a9c4e0b1d4e6f8a7b5c3d2e1f0a9b"};
}

std::vector<std::string> lines_of(const std::string& message) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos < message.size()) {
    const auto end = message.find("\r\n", pos);
    if (end == std::string::npos) {
      out.push_back(message.substr(pos));
      break;
    }
    out.push_back(message.substr(pos, end - pos));
    pos = end + 2;
  }
  return out;
}

std::string header(const std::string& message, const std::string& name) {
  for (const auto& line : lines_of(message)) {
    if (line.empty()) {
      break;
    }
    if (line.rfind(name + ": ", 0) == 0) {
      return line.substr(name.size() + 2);
    }
  }
  return "<absent>";
}

std::string unbase64(const std::string& text) {
  std::string out(text.size(), '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  out.resize(static_cast<std::size_t>(n));
  // EVP_DecodeBlock counts each '=' of padding as a zero byte.
  for (auto it = text.rbegin(); it != text.rend() && *it == '=' && !out.empty(); ++it) {
    out.pop_back();
  }
  return out;
}

// Decodes a header made of =?UTF-8?B?...?= words folded with CRLF SP.
std::string decode_words(const std::string& value) {
  std::string out;
  std::size_t pos = 0;
  while ((pos = value.find("=?UTF-8?B?", pos)) != std::string::npos) {
    const auto end = value.find("?=", pos + 10);
    out += unbase64(value.substr(pos + 10, end - pos - 10));
    pos = end + 2;
  }
  return out;
}

TEST(Mail, FormatsAnRfc5322MessageWithCrlfLines) {
  const auto m = format_message(sample(), kDate);
  EXPECT_EQ(header(m, "Date"), "Wed, 25 Nov 2026 17:04:05 +0000");
  EXPECT_EQ(header(m, "From"), "Emporium <shop@emporium.local>");
  EXPECT_EQ(header(m, "To"), "ann@example.com");
  EXPECT_EQ(header(m, "Subject"), "Your order");
  EXPECT_EQ(header(m, "Message-ID"), "<3f2a9c4e0b1d4e6f8a7b5c3d2e1f0a9b@emporium.local>");
  EXPECT_EQ(header(m, "MIME-Version"), "1.0");
  EXPECT_EQ(header(m, "Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(header(m, "Content-Transfer-Encoding"), "8bit");
  const auto body = m.substr(m.find("\r\n\r\n") + 4);
  EXPECT_EQ(body, "Hello Ann,\r\nthanks.\r\n");
  // No bare CR or LF anywhere.
  for (std::size_t i = 0; i < m.size(); ++i) {
    if (m[i] == '\n') {
      ASSERT_TRUE(i > 0 && m[i - 1] == '\r') << "bare LF at " << i;
    }
    if (m[i] == '\r') {
      ASSERT_TRUE(i + 1 < m.size() && m[i + 1] == '\n') << "bare CR at " << i;
    }
  }
}

TEST(Mail, BodyLineEndingsBecomeCrlfAndTheBodyEndsWithOne) {
  auto mail = sample();
  mail.body = "one\rtwo\r\nthree\n\nfour";
  const auto m = format_message(mail, kDate);
  EXPECT_EQ(m.substr(m.find("\r\n\r\n") + 4), "one\r\ntwo\r\nthree\r\n\r\nfour\r\n");
}

TEST(Mail, LongBodyLinesAreBrokenBetweenCharacters) {
  auto mail = sample();
  std::string line;
  for (int i = 0; i < 700; ++i) {
    line += "\xc3\xa9";  // é, two bytes: 1400 bytes in all
  }
  mail.body = line;
  const auto m = format_message(mail, kDate);
  const auto body = lines_of(m.substr(m.find("\r\n\r\n") + 4));
  ASSERT_GE(body.size(), 2u);
  std::string joined;
  for (const auto& l : body) {
    EXPECT_LE(l.size(), 998u);
    EXPECT_EQ(l.size() % 2, 0u) << "a line starts or ends inside a character";
    joined += l;
  }
  EXPECT_EQ(joined, line);
}

TEST(Mail, NonAsciiSubjectIsEncodedInWordsOfAtMost75Characters) {
  auto mail = sample();
  mail.subject = "Ihre Bestellung über 3 × Lämpchen ist unterwegs — vielen Dank für Ihren Einkauf!";
  const auto m = format_message(mail, kDate);
  const auto start = m.find("Subject: ") + 9;
  const auto end = m.find("\r\nMessage-ID");
  const auto value = m.substr(start, end - start);
  EXPECT_EQ(value.rfind("=?UTF-8?B?", 0), 0u) << value;
  EXPECT_NE(value.find("\r\n "), std::string::npos) << "long subjects are folded";
  std::size_t pos = 0;
  while (pos < value.size()) {
    auto next = value.find("\r\n ", pos);
    const auto word = value.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    EXPECT_LE(word.size(), 75u) << word;
    pos = next == std::string::npos ? value.size() : next + 3;
  }
  EXPECT_EQ(decode_words(value), mail.subject);
}

TEST(Mail, AsciiTextThatLooksEncodedIsEncoded) {
  EXPECT_EQ(encode_header_text("plain words"), "plain words");
  const auto e = encode_header_text("=?UTF-8?B?eA==?=");
  EXPECT_EQ(decode_words(e), "=?UTF-8?B?eA==?=");
}

TEST(Mail, DisplayNamesAreQuotedOrEncoded) {
  auto mail = sample();
  mail.from = "\"Emporium, Ltd.\" <shop@emporium.local>";
  mail.to = "Zoë Ünicode <zoe@example.com>";
  const auto m = format_message(mail, kDate);
  EXPECT_EQ(header(m, "From"), "\"Emporium, Ltd.\" <shop@emporium.local>");
  const auto to = header(m, "To");
  EXPECT_EQ(to.rfind("=?UTF-8?B?", 0), 0u) << to;
  EXPECT_NE(to.find(" <zoe@example.com>"), std::string::npos) << to;
  EXPECT_EQ(decode_words(to), "Zoë Ünicode");
}

TEST(Mail, ParsesMailboxes) {
  EXPECT_EQ(parse_mailbox("ann@example.com").address, "ann@example.com");
  EXPECT_EQ(parse_mailbox("  Ann <ann@example.com> ").name, "Ann");
  EXPECT_EQ(parse_mailbox("Ann <ann@example.com>").address, "ann@example.com");
  EXPECT_EQ(parse_mailbox(R"("A \"B\" C" <abc@example.com>)").name, R"(A "B" C)");
  for (const char* bad : {"", "ann", "@example.com", "ann@", "a@b@c", "ann <>", "a b@example.com",
                          "Ann <ann@example.com>, bob@example.com"}) {
    EXPECT_THROW(parse_mailbox(bad), std::invalid_argument) << bad;
  }
}

TEST(Mail, RefusesHeaderInjection) {
  auto injected = [](auto change) {
    auto mail = sample();
    change(mail);
    return mail;
  };
  EXPECT_THROW(
      format_message(injected([](Mail& m) { m.subject = "Hi\r\nBcc: all@example.com"; }), kDate),
      std::invalid_argument);
  EXPECT_THROW(format_message(injected([](Mail& m) { m.subject = "Hi\nthere"; }), kDate),
               std::invalid_argument);
  EXPECT_THROW(
      format_message(injected([](Mail& m) { m.to = "ann@example.com\r\nBcc: x@y.z"; }), kDate),
      std::invalid_argument);
  EXPECT_THROW(
      format_message(injected([](Mail& m) { m.from = "Shop\n <shop@emporium.local>"; }), kDate),
      std::invalid_argument);
  EXPECT_THROW(format_message(injected([](Mail& m) { m.id = "abc>\r\nX: y"; }), kDate),
               std::invalid_argument);
  EXPECT_THROW(format_message(injected([](Mail& m) { m.id = "a@b"; }), kDate),
               std::invalid_argument);
}

TEST(Mail, WithoutAnIdTheMessageIdIsRandom) {
  auto mail = sample();
  mail.id.clear();
  const auto a = header(format_message(mail, kDate), "Message-ID");
  const auto b = header(format_message(mail, kDate), "Message-ID");
  EXPECT_NE(a, b);
  EXPECT_NE(a.find("@emporium.local>"), std::string::npos) << a;
}

TEST(SmtpSender, AcceptsOnlySmtpUrlsAndHidesThePassword) {
  EXPECT_THROW(SmtpSender("http://mail.example.com"), std::invalid_argument);
  EXPECT_THROW(SmtpSender("smtp://"), std::invalid_argument);
  EXPECT_THROW(SmtpSender("mail.example.com:25"), std::invalid_argument);
  EXPECT_EQ(SmtpSender("smtp://127.0.0.1:2525").redacted_url(), "smtp://127.0.0.1:2525");
  EXPECT_EQ(SmtpSender("smtps://user:s3cret@mail.example.com:465").redacted_url(),
            "smtps://user:***@mail.example.com:465");
}

TEST(SmtpSender, ServerDownIsATransientErrorWithoutThePassword) {
  // Port 1 on loopback: nothing listens there, the connection is refused.
  SmtpSender sender("smtp://user:s3cret@127.0.0.1:1", 2s);
  try {
    sender.send(sample());
    FAIL() << "sent to a closed port";
  } catch (const core::Error& e) {
    EXPECT_TRUE(e.transient());
    EXPECT_EQ(std::string(e.what()).find("s3cret"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("127.0.0.1"), std::string::npos) << e.what();
  }
}

TEST(SmtpSender, RefusesInjectionBeforeConnecting) {
  SmtpSender sender("smtp://127.0.0.1:1", 2s);
  auto mail = sample();
  mail.subject = "x\r\nBcc: all@example.com";
  EXPECT_THROW(sender.send(mail), std::invalid_argument);
}

}  // namespace
}  // namespace emporium::mail
