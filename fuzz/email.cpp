// Email rendering (src/notification): an input is decoded as an event off
// the bus, read as the notice it asks for, and rendered with the shipped
// templates as the notification service renders it. An input that starts
// with "Subject:" is also parsed as a template and rendered with values
// taken from its own lines.
//
// Findings besides sanitizer reports: an exception other than
// std::invalid_argument from an event, any exception rendering a notice
// with the shipped templates, or a subject that holds a control character
// or is not valid UTF-8 (a mail header).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include "bus/event.hpp"
#include "common/embedded.hpp"
#include "notification/domain.hpp"

namespace {

using namespace emporium;

[[noreturn]] void finding(const char* what) {
  std::fprintf(stderr, "fuzz_email: %s\n", what);
  std::abort();
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t n = c < 0x80           ? 1
                          : (c >> 5) == 0x6  ? 2
                          : (c >> 4) == 0xE  ? 3
                          : (c >> 3) == 0x1E ? 4
                                             : 0;
    if (n == 0 || i + n > s.size()) {
      return false;
    }
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) {
        return false;
      }
    }
    i += n;
  }
  return true;
}

void check_subject(std::string_view subject) {
  for (unsigned char c : subject) {
    if (c < 0x20 || c == 0x7f) {
      finding("subject holds a control character");
    }
  }
  if (!valid_utf8(subject)) {
    finding("subject is not valid UTF-8");
  }
}

void from_event(std::string_view input) {
  static const notification::Templates templates(embedded::mail_templates());
  std::optional<notification::Notice> notice;
  try {
    notice = notification::notice_for(bus::decode(input));
  } catch (const std::invalid_argument&) {
    return;
  }
  if (!notice) {
    return;
  }
  notice->vars.insert_or_assign("name", notification::greeting_name(notice->name));
  const auto rendered = notification::render(templates.get(notice->kind), notice->vars);
  check_subject(rendered.subject);
}

void from_template(std::string_view input) {
  if (input.substr(0, 8) != "Subject:") {
    return;
  }
  notification::Vars vars;
  std::size_t start = 0;
  while (start < input.size()) {
    const auto end = std::min(input.find('\n', start), input.size());
    const auto line = input.substr(start, end - start);
    start = end + 1;
    if (const auto eq = line.find('='); eq != std::string_view::npos) {
      vars.insert_or_assign(std::string(line.substr(0, eq)), std::string(line.substr(eq + 1)));
    }
  }
  try {
    const auto t = notification::parse_template("fuzz", input);
    const auto rendered = notification::render(t, vars);
    for (unsigned char c : rendered.subject) {
      if (c < 0x20 || c == 0x7f) {
        finding("rendered subject holds a control character");
      }
    }
  } catch (const std::invalid_argument&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  from_event(input);
  from_template(input);
  return 0;
}
