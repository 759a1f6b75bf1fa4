#include "notification/domain.hpp"

#include <boost/json.hpp>
#include <limits>
#include <stdexcept>

namespace emporium::notification {

namespace json = boost::json;

namespace {

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// Reads the payload's members, naming the event type in every error.
class Payload {
 public:
  explicit Payload(const bus::Event& e) : type_(e.type) {
    boost::system::error_code ec;
    auto v = json::parse(e.payload, ec);
    if (ec || !v.is_object()) {
      throw std::invalid_argument(type_ + ": payload is not a JSON object");
    }
    o_ = std::move(v.as_object());
  }

  const json::object& object() const noexcept { return o_; }

  std::string text(std::string_view key, bool required = true) const {
    return text(o_, key, required);
  }
  std::string text(const json::object& o, std::string_view key, bool required = true) const {
    const auto* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) {
      if (required) {
        throw std::invalid_argument(type_ + ": payload lacks '" + std::string(key) + "'");
      }
      return {};
    }
    if (!v->is_string()) {
      throw std::invalid_argument(type_ + ": '" + std::string(key) + "' is not a string");
    }
    return std::string(v->get_string());
  }

  std::int64_t integer(const json::object& o, std::string_view key, std::int64_t min) const {
    const auto* v = o.if_contains(key);
    if (v == nullptr) {
      throw std::invalid_argument(type_ + ": payload lacks '" + std::string(key) + "'");
    }
    std::int64_t n = 0;
    if (v->is_int64()) {
      n = v->get_int64();
    } else if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(
                                                        std::numeric_limits<std::int64_t>::max())) {
      n = static_cast<std::int64_t>(v->get_uint64());
    } else {
      throw std::invalid_argument(type_ + ": '" + std::string(key) + "' is not an integer");
    }
    if (n < min) {
      throw std::invalid_argument(type_ + ": '" + std::string(key) + "' is out of range");
    }
    return n;
  }

  const json::array& array(std::string_view key) const {
    const auto* v = o_.if_contains(key);
    if (v == nullptr || !v->is_array()) {
      throw std::invalid_argument(type_ + ": '" + std::string(key) + "' is not an array");
    }
    return v->get_array();
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw std::invalid_argument(type_ + ": " + what);
  }

 private:
  std::string type_;
  json::object o_;
};

// A short reference for subjects: the first 8 characters of the order id,
// counted in UTF-8 code points, so that a multi-byte character is never cut.
std::string order_ref(const std::string& order_id) {
  std::size_t end = 0;
  for (int chars = 0; chars < 8 && end < order_id.size(); ++chars) {
    ++end;
    while (end < order_id.size() && (static_cast<unsigned char>(order_id[end]) & 0xC0) == 0x80) {
      ++end;
    }
  }
  return order_id.substr(0, end);
}

// The largest quantity and price a line may carry so that their product fits.
constexpr std::int64_t kMaxLineValue = 1'000'000'000;

Notice order_placed(const Payload& p) {
  Notice n{std::string(kOrderPlaced), p.text("user_id"), {}, {}, {}};
  const auto order_id = p.text("order_id");
  const auto currency = p.text("currency");
  const auto total = p.integer(p.object(), "total_cents", 0);
  std::string lines;
  for (const auto& item : p.array("items")) {
    if (!item.is_object()) {
      p.fail("an item is not an object");
    }
    const auto& o = item.get_object();
    const auto quantity = p.integer(o, "quantity", 1);
    const auto price = p.integer(o, "price_cents", 0);
    if (quantity > kMaxLineValue || price > kMaxLineValue) {
      p.fail("an item's quantity or price is out of range");
    }
    auto name = p.text(o, "product_name", false);
    if (name.empty()) {
      name = p.text(o, "product_id");  // older producers send no name
    }
    if (!lines.empty()) {
      lines += '\n';
    }
    lines += std::to_string(quantity) + " \u00d7 " + name + " @ " + format_cents(price) + " = " +
             format_cents(quantity * price);
  }
  n.vars = {{"order_id", order_id},
            {"order_ref", order_ref(order_id)},
            {"items", std::move(lines)},
            {"total", format_cents(total)},
            {"currency", currency}};
  return n;
}

}  // namespace

Template parse_template(std::string_view name, std::string_view text) {
  constexpr std::string_view kPrefix = "Subject:";
  const auto eol = text.find('\n');
  const auto first = text.substr(0, eol);
  if (first.substr(0, kPrefix.size()) != kPrefix || trim(first.substr(kPrefix.size())).empty()) {
    throw std::invalid_argument("mail template " + std::string(name) +
                                ": the first line must be 'Subject: ...'");
  }
  Template t;
  t.subject = std::string(trim(first.substr(kPrefix.size())));
  auto body = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
  if (!body.empty() && body.front() == '\r') {
    body.remove_prefix(1);
  }
  if (!body.empty() && body.front() == '\n') {
    body.remove_prefix(1);
  }
  t.body = std::string(body);
  return t;
}

std::string render(std::string_view text, const Vars& vars) {
  std::string out;
  out.reserve(text.size() + 256);
  std::size_t pos = 0;
  while (true) {
    const auto open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      out.append(text.substr(pos));
      return out;
    }
    const auto close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      throw std::invalid_argument("unclosed '{{' in a mail template");
    }
    out.append(text.substr(pos, open - pos));
    const auto key = trim(text.substr(open + 2, close - open - 2));
    const auto it = vars.find(key);
    if (it == vars.end()) {
      throw std::invalid_argument("unknown placeholder {{" + std::string(key) +
                                  "}} in a mail template");
    }
    out += it->second;
    pos = close + 2;
  }
}

std::string format_cents(std::int64_t cents) {
  const bool negative = cents < 0;
  // Through unsigned, so the most negative value is exact too.
  const std::uint64_t magnitude =
      negative ? ~static_cast<std::uint64_t>(cents) + 1 : static_cast<std::uint64_t>(cents);
  const auto fraction = magnitude % 100;
  std::string out = negative ? "-" : "";
  out += std::to_string(magnitude / 100);
  out += '.';
  out += static_cast<char>('0' + fraction / 10);
  out += static_cast<char>('0' + fraction % 10);
  return out;
}

Templates::Templates(const std::vector<std::pair<std::string_view, std::string_view>>& files) {
  for (const auto& [file, text] : files) {
    constexpr std::string_view kSuffix = ".txt";
    if (file.size() > kSuffix.size() && file.substr(file.size() - kSuffix.size()) == kSuffix) {
      templates_.emplace(std::string(file.substr(0, file.size() - kSuffix.size())),
                         parse_template(file, text));
    }
  }
  for (auto kind : kKinds) {
    if (!templates_.contains(kind)) {
      throw std::invalid_argument("no mail template " + std::string(kind) + ".txt");
    }
  }
}

const Template& Templates::get(std::string_view kind) const {
  const auto it = templates_.find(kind);
  if (it == templates_.end()) {
    throw std::out_of_range("no mail template " + std::string(kind));
  }
  return it->second;
}

std::optional<Notice> notice_for(const bus::Event& e) {
  const bool known = e.type == bus::types::order_placed || e.type == bus::types::order_cancelled ||
                     e.type == bus::types::order_status_changed ||
                     e.type == bus::types::user_registered ||
                     e.type == bus::types::user_registration_attempted;
  if (!known) {
    return std::nullopt;
  }
  if (e.version != 1) {
    throw std::invalid_argument(e.type + ": payload version " + std::to_string(e.version) +
                                " is not supported (1 is)");
  }
  const Payload p(e);
  if (e.type == bus::types::order_placed) {
    return order_placed(p);
  }
  if (e.type == bus::types::user_registered || e.type == bus::types::user_registration_attempted) {
    const auto kind = e.type == bus::types::user_registered ? kWelcome : kRegistrationAttempt;
    Notice n{std::string(kind), p.text("user_id"), p.text("email"), p.text("name", false), {}};
    if (n.email.empty()) {
      p.fail("'email' is empty");
    }
    n.vars = {{"email", n.email}};
    return n;
  }
  const auto order_id = p.text("order_id");
  Notice n{
      {}, p.text("user_id"), {}, {}, {{"order_id", order_id}, {"order_ref", order_ref(order_id)}}};
  if (e.type == bus::types::order_cancelled) {
    n.kind = std::string(kOrderCancelled);
    return n;
  }
  const auto to = p.text("to");
  if (to == "cancelled") {
    return std::nullopt;
  }
  n.kind = std::string(kOrderStatusChanged);
  n.vars.emplace("from", p.text("from"));
  n.vars.emplace("to", to);
  return n;
}

Rendered render(const Template& t, const Vars& vars) {
  Rendered r{render(t.subject, vars), render(t.body, vars)};
  for (auto& c : r.subject) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      c = ' ';
    }
  }
  return r;
}

std::string greeting_name(std::string_view name) {
  const auto t = trim(name);
  return t.empty() ? std::string("there") : std::string(t);
}

}  // namespace emporium::notification
