#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace emporium::mail {

// One plain-text email.
struct Mail {
  std::string from;     // "addr@host" or "Display Name <addr@host>"
  std::string to;       // the same forms; one recipient
  std::string subject;  // UTF-8, one line
  std::string body;     // UTF-8 text; any line endings (sent as CRLF)
  // Left part of the Message-ID, <id@domain of from>: pass something that
  // names the cause (an event id), so that a duplicate is recognisable.
  // Printable ASCII without spaces, '<', '>', '@' or '"'. Empty: a random one.
  std::string id{};
};

// Where mail goes. Implementations are thread-safe.
class Sender {
 public:
  virtual ~Sender() = default;
  // Returns once the server accepted the message. Throws core::Error when it
  // was not (see SmtpSender) and std::invalid_argument for a Mail that cannot
  // be written (header injection, no address).
  virtual void send(const Mail& mail) = 0;
};

// A mailbox of a From or To header.
struct Mailbox {
  std::string name{};  // display name, possibly empty
  std::string address;
};

// Parses "addr@host" or "Display Name <addr@host>" (a display name may be
// quoted). Throws std::invalid_argument when there is no address with an '@',
// or the text holds a control character (CR, LF: header injection).
Mailbox parse_mailbox(std::string_view text);

// `text` as header field content: as is when it is printable ASCII without
// "=?", else as RFC 2047 encoded words (=?UTF-8?B?...?=, each at most 75
// characters, folded with CRLF SP). Throws std::invalid_argument for a CR, LF
// or other control character.
std::string encode_header_text(std::string_view text);

// The whole RFC 5322 message: Date (`date`, UTC), From, To, Subject,
// Message-ID, MIME-Version, Content-Type text/plain; charset=utf-8,
// Content-Transfer-Encoding 8bit, an empty line, then the body with CRLF line
// endings, lines longer than 998 octets broken, and a final CRLF. No
// dot-stuffing (the SMTP client does it). Throws std::invalid_argument as
// parse_mailbox and encode_header_text, and for a bad Mail::id.
std::string format_message(const Mail& mail, std::chrono::system_clock::time_point date);

// Sends mail over SMTP with libcurl: MAIL FROM and RCPT TO take the bare
// addresses of Mail::from and Mail::to, DATA is format_message(). One
// connection per message.
class SmtpSender final : public Sender {
 public:
  // `url`: smtp://[user:password@]host[:port] (smtps:// for implicit TLS;
  // user and password, percent-encoded, make it log in). `timeout` bounds one
  // whole send, connecting included. Throws std::invalid_argument for another
  // scheme or an empty host.
  explicit SmtpSender(std::string url,
                      std::chrono::milliseconds timeout = std::chrono::milliseconds(10'000));

  // Throws core::Error naming the server (password masked) and the reason
  // when the message was not accepted: transient for a connection failure, a
  // timeout (timeout() set) or a 4xx reply; not transient for a 5xx reply (the
  // server refused this message for good). Throws std::invalid_argument as
  // format_message. Thread-safe.
  void send(const Mail& mail) override;

  // The URL with its password replaced by "***", for logs.
  const std::string& redacted_url() const noexcept { return redacted_; }

 private:
  std::string url_;
  std::string redacted_;
  std::chrono::milliseconds timeout_;
};

}  // namespace emporium::mail
