#include "notification/domain.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "common/embedded.hpp"

namespace emporium::notification {
namespace {

bus::Event event(std::string_view type, std::string payload, int version = 1) {
  return bus::make_event(type, std::move(payload), version);
}

const std::string kPlacedPayload =
    R"({"order_id":"0123456789abcdef0123456789abcdef","user_id":"u1","total_cents":5997,)"
    R"("currency":"USD","items":[)"
    R"({"product_id":"p1","product_name":"Journey Lamp","quantity":2,"price_cents":2499},)"
    R"({"product_id":"p2","product_name":"Tea","quantity":1,"price_cents":999}]})";

// Found by fuzz/email.cpp (corpus/email/regression_order_ref_utf8): the
// reference cut "é" in half, and the subject was not valid UTF-8.
TEST(NotificationDomain, OrderRefKeepsWholeCharacters) {
  const auto n = notice_for(
      event("order.cancelled",
            R"({"order_id":"o\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9","user_id":"u1"})"));
  ASSERT_TRUE(n);
  EXPECT_EQ(n->vars.at("order_ref"), "o\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9");
}

TEST(NotificationDomain, FormatsCentsExactly) {
  EXPECT_EQ(format_cents(0), "0.00");
  EXPECT_EQ(format_cents(5), "0.05");
  EXPECT_EQ(format_cents(4998), "49.98");
  EXPECT_EQ(format_cents(100), "1.00");
  EXPECT_EQ(format_cents(-150), "-1.50");
  EXPECT_EQ(format_cents(123456789012), "1234567890.12");
  EXPECT_EQ(format_cents(INT64_MIN), "-92233720368547758.08");
}

TEST(NotificationDomain, ParsesTemplates) {
  auto t = parse_template("x.txt", "Subject: Hello {{name}}\n\nBody {{name}}\nline 2\n");
  EXPECT_EQ(t.subject, "Hello {{name}}");
  EXPECT_EQ(t.body, "Body {{name}}\nline 2\n");
  EXPECT_EQ(parse_template("x.txt", "Subject: Only a subject").body, "");
  EXPECT_EQ(parse_template("x.txt", "Subject: S\r\n\r\nB\r\n").subject, "S");
  EXPECT_THROW(parse_template("x.txt", "Hello\nSubject: x\n"), std::invalid_argument);
  EXPECT_THROW(parse_template("x.txt", "Subject:   \nbody"), std::invalid_argument);
  EXPECT_THROW(parse_template("x.txt", ""), std::invalid_argument);
}

TEST(NotificationDomain, RendersPlaceholders) {
  const Vars vars{{"name", "Ann"}, {"n", "2"}};
  EXPECT_EQ(render("Hi {{name}}, {{ n }} items {{name}}", vars), "Hi Ann, 2 items Ann");
  EXPECT_EQ(render("no placeholders", vars), "no placeholders");
  // Values are not rendered again.
  EXPECT_EQ(render("{{name}}", Vars{{"name", "{{n}}"}}), "{{n}}");
  EXPECT_THROW(render("Hi {{nmae}}", vars), std::invalid_argument);
  EXPECT_THROW(render("Hi {{name", vars), std::invalid_argument);
}

TEST(NotificationDomain, EveryTemplateIsShippedAndRendersWithItsValues) {
  const Templates templates(embedded::mail_templates());
  Vars all{{"name", "Ann"},     {"email", "ann@example.com"},
           {"order_id", "o1"},  {"order_ref", "o1"},
           {"items", "-"},      {"total", "1.00"},
           {"currency", "USD"}, {"from", "pending"},
           {"to", "shipped"}};
  for (auto kind : kKinds) {
    const auto r = render(templates.get(kind), all);
    EXPECT_FALSE(r.subject.empty()) << kind;
    EXPECT_NE(r.body.find("Hello Ann,"), std::string::npos) << kind;
  }
  const std::vector<std::pair<std::string_view, std::string_view>> only_welcome = {
      {"welcome.txt", "Subject: x\n"}};
  EXPECT_THROW(Templates{only_welcome}, std::invalid_argument);
}

TEST(NotificationDomain, OrderPlacedListsItemsAndTheTotal) {
  const auto n = notice_for(event("order.placed", kPlacedPayload));
  ASSERT_TRUE(n);
  EXPECT_EQ(n->kind, kOrderPlaced);
  EXPECT_EQ(n->user_id, "u1");
  EXPECT_TRUE(n->email.empty());
  EXPECT_EQ(n->vars.at("items"),
            "2 \u00d7 Journey Lamp @ 24.99 = 49.98\n1 \u00d7 Tea @ 9.99 = 9.99");
  EXPECT_EQ(n->vars.at("total"), "59.97");
  EXPECT_EQ(n->vars.at("currency"), "USD");
  EXPECT_EQ(n->vars.at("order_ref"), "01234567");

  auto vars = n->vars;
  vars.emplace("name", "Ann");
  const auto r = render(Templates(embedded::mail_templates()).get(kOrderPlaced), vars);
  EXPECT_NE(r.subject.find("01234567"), std::string::npos) << r.subject;
  EXPECT_NE(r.body.find("2 \u00d7 Journey Lamp @ 24.99 = 49.98\n"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("Total: 59.97 USD"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("0123456789abcdef0123456789abcdef"), std::string::npos) << r.body;
}

TEST(NotificationDomain, AnItemWithoutANameShowsItsProductId) {
  const auto n = notice_for(event(
      "order.placed",
      R"({"order_id":"o","user_id":"u","total_cents":100,"currency":"EUR","items":[{"product_id":"p9","quantity":1,"price_cents":100}]})"));
  ASSERT_TRUE(n);
  EXPECT_EQ(n->vars.at("items"), "1 \u00d7 p9 @ 1.00 = 1.00");
}

TEST(NotificationDomain, ARegistrationAttemptTellsTheOwnerOfTheAddress) {
  auto n = notice_for(event("user.registration_attempted",
                            R"({"user_id":"u-ann","email":"ann@example.com","name":"Ann"})"));
  ASSERT_TRUE(n);
  EXPECT_EQ(n->kind, kRegistrationAttempt);
  EXPECT_EQ(n->user_id, "u-ann");
  EXPECT_EQ(n->email, "ann@example.com");
  auto vars = n->vars;
  vars.emplace("name", greeting_name(n->name));
  const auto r = render(Templates(embedded::mail_templates()).get(kRegistrationAttempt), vars);
  EXPECT_EQ(r.subject, "Someone tried to register with your address");
  EXPECT_NE(r.body.find("Hello Ann,"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("an Emporium account with ann@example.com, which\nalready has one"),
            std::string::npos)
      << r.body;
  EXPECT_THROW(notice_for(event("user.registration_attempted", R"({"user_id":"u"})")),
               std::invalid_argument);
}

TEST(NotificationDomain, OtherEvents) {
  auto welcome =
      notice_for(event("user.registered", R"({"user_id":"u","email":"a@b.co","name":"Ann"})"));
  ASSERT_TRUE(welcome);
  EXPECT_EQ(welcome->kind, kWelcome);
  EXPECT_EQ(welcome->email, "a@b.co");
  EXPECT_EQ(welcome->name, "Ann");

  auto nameless = notice_for(event("user.registered", R"({"user_id":"u","email":"a@b.co"})"));
  ASSERT_TRUE(nameless);
  EXPECT_EQ(greeting_name(nameless->name), "there");

  auto status =
      notice_for(event("order.status_changed",
                       R"({"order_id":"o","user_id":"u","from":"pending","to":"processing"})"));
  ASSERT_TRUE(status);
  EXPECT_EQ(status->kind, kOrderStatusChanged);
  EXPECT_EQ(status->vars.at("to"), "processing");
  EXPECT_EQ(status->vars.at("from"), "pending");

  auto cancelled = notice_for(event("order.cancelled", R"({"order_id":"o","user_id":"u"})"));
  ASSERT_TRUE(cancelled);
  EXPECT_EQ(cancelled->kind, kOrderCancelled);

  // Cancellation has its own event and email.
  EXPECT_FALSE(
      notice_for(event("order.status_changed",
                       R"({"order_id":"o","user_id":"u","from":"pending","to":"cancelled"})")));
  EXPECT_FALSE(
      notice_for(event("product.stock_low", R"({"product_id":"p","stock":1,"threshold":5})")));
  EXPECT_FALSE(notice_for(event("order.refunded", "{}")));
}

TEST(NotificationDomain, MalformedPayloadsAndOtherVersionsAreRefused) {
  for (
      const char* payload :
      {R"({})", R"({"order_id":"o","user_id":"u","total_cents":"5","currency":"USD","items":[]})",
       R"({"order_id":"o","user_id":"u","total_cents":5,"currency":"USD","items":{}})",
       R"({"order_id":"o","user_id":"u","total_cents":5,"currency":"USD","items":[{"product_id":"p","quantity":0,"price_cents":1}]})",
       R"({"order_id":"o","user_id":"u","total_cents":-5,"currency":"USD","items":[]})",
       R"({"order_id":"o","user_id":7,"total_cents":5,"currency":"USD","items":[]})"}) {
    EXPECT_THROW(notice_for(event("order.placed", payload)), std::invalid_argument) << payload;
  }
  EXPECT_THROW(notice_for(event("user.registered", R"({"user_id":"u","email":""})")),
               std::invalid_argument);
  EXPECT_THROW(notice_for(event("order.cancelled", R"({"order_id":"o"})")), std::invalid_argument);
  EXPECT_THROW(notice_for(event("order.cancelled", R"({"order_id":"o","user_id":"u"})", 2)),
               std::invalid_argument);
}

TEST(NotificationDomain, ControlCharactersInSubjectValuesBecomeSpaces) {
  const auto r =
      render(Template{"Welcome {{name}}", "Hi {{name}}\n"}, Vars{{"name", "Ann\r\nBcc: x"}});
  EXPECT_EQ(r.subject, "Welcome Ann  Bcc: x");
  EXPECT_EQ(r.body,
            "Hi Ann\r\nBcc: x\n");  // the body is no header: the mail writer fixes line ends
}

}  // namespace
}  // namespace emporium::notification
