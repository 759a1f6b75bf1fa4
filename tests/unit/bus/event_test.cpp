#include "bus/event.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "core/ids.hpp"

namespace emporium::bus {
namespace {

TEST(Event, EnvelopeRoundTrips) {
  const Event e{.id = "3f2a9c4e0b1d4e6f8a7b5c3d2e1f0a9b",
                .type = "order.placed",
                .time = "2026-11-25T17:00:00.000Z",
                .version = 2,
                .payload =
                    R"({"order_id":"o1","total_cents":1999,"note":"caf\u00e9 \"quoted\" \\ \n",)"
                    R"("items":[{"product_id":"p1","quantity":2}],"gift":false,"x":null})"};
  const auto json = encode(e);
  // The payload is copied verbatim; the members come in the documented order.
  EXPECT_EQ(json.rfind(R"({"id":"3f2a9c4e0b1d4e6f8a7b5c3d2e1f0a9b","type":"order.placed",)"
                       R"("time":"2026-11-25T17:00:00.000Z","version":2,"payload":{"order_id")",
                       0),
            0U)
      << json;
  const auto back = decode(json);
  EXPECT_EQ(back.id, e.id);
  EXPECT_EQ(back.type, e.type);
  EXPECT_EQ(back.time, e.time);
  EXPECT_EQ(back.version, 2);
  EXPECT_EQ(boost::json::parse(back.payload), boost::json::parse(e.payload));
  // Encoding what was decoded gives the same value again.
  EXPECT_EQ(boost::json::parse(encode(back)), boost::json::parse(json));
}

TEST(Event, MakeEventFillsIdAndTime) {
  const auto e = make_event(types::user_registered, R"({"user_id":"u1","email":"a@b.c"})");
  EXPECT_TRUE(core::is_id(e.id));
  EXPECT_EQ(e.type, "user.registered");
  EXPECT_EQ(e.version, 1);
  EXPECT_EQ(e.time.size(), 24U);
  EXPECT_EQ(e.time.back(), 'Z');
  EXPECT_NE(make_event("a.b", "{}").id, e.id);
}

TEST(Event, DecodeIgnoresUnknownMembersAndKeepsNumbers) {
  const auto e =
      decode(R"({"extra":[1,2],"payload":{"price":19.99,"big":12345678901234},"version":1,)"
             R"("time":"t","type":"product.stock_low","id":"abc"})");
  EXPECT_EQ(e.id, "abc");
  EXPECT_EQ(e.type, "product.stock_low");
  // Plain decimals, not 1.999E1.
  EXPECT_NE(e.payload.find("19.99"), std::string::npos) << e.payload;
  EXPECT_NE(e.payload.find("12345678901234"), std::string::npos) << e.payload;
}

TEST(Event, DecodeRejectsWhatIsNotAnEnvelope) {
  const char* bad[] = {
      "",
      "not json",
      "[]",
      "\"x\"",
      R"({"type":"a.b","time":"t","version":1,"payload":{}})",          // no id
      R"({"id":"","type":"a.b","time":"t","version":1,"payload":{}})",  // empty id
      R"({"id":"has space","type":"a.b","time":"t","version":1,"payload":{}})",
      R"({"id":1,"type":"a.b","time":"t","version":1,"payload":{}})",        // id not a string
      R"({"id":"x","type":"A.b","time":"t","version":1,"payload":{}})",      // upper case
      R"({"id":"x","type":"a..b","time":"t","version":1,"payload":{}})",     // empty word
      R"({"id":"x","type":"order.*","time":"t","version":1,"payload":{}})",  // a pattern
      R"({"id":"x","type":"a.b","version":1,"payload":{}})",                 // no time
      R"({"id":"x","type":"a.b","time":"t","version":0,"payload":{}})",
      R"({"id":"x","type":"a.b","time":"t","version":1.5,"payload":{}})",
      R"({"id":"x","type":"a.b","time":"t","version":"1","payload":{}})",
      R"({"id":"x","type":"a.b","time":"t","version":99999999999,"payload":{}})",
      R"({"id":"x","type":"a.b","time":"t","version":1})",  // no payload
      R"({"id":"x","type":"a.b","time":"t","version":1,"payload":[]})",
      R"({"id":"x","type":"a.b","time":"t","version":1,"payload":"{}"})",
      R"({"id":"x","type":"a.b","time":"t","version":1,"payload":{}} trailing)",
  };
  for (const char* json : bad) {
    EXPECT_THROW(decode(json), std::invalid_argument) << json;
  }
  // Deep nesting is refused rather than overflowing the stack.
  EXPECT_THROW(decode(R"({"id":"x","type":"a.b","time":"t","version":1,"payload":{"a":)" +
                      std::string(10'000, '[') + std::string(10'000, ']') + "}}"),
               std::invalid_argument);
}

TEST(Event, EncodeRefusesInvalidEvents) {
  Event e{.id = "x", .type = "a.b", .time = "t", .version = 1, .payload = "{}"};
  EXPECT_NO_THROW(encode(e));
  for (const char* payload : {"", "[]", "1", "{", R"({"a":1} {"b":2})", "null"}) {
    e.payload = payload;
    EXPECT_THROW(encode(e), std::invalid_argument) << payload;
  }
  e.payload = "{}";
  e.version = 0;
  EXPECT_THROW(encode(e), std::invalid_argument);
  e.version = 1;
  e.id = std::string(256, 'a');
  EXPECT_THROW(encode(e), std::invalid_argument);
  e.id = "x";
  e.type = "";
  EXPECT_THROW(encode(e), std::invalid_argument);
  e.type = "a.b";
  e.time = "";
  EXPECT_THROW(encode(e), std::invalid_argument);
}

TEST(Event, TopicPatternsMatchLikeRabbitMq) {
  struct Case {
    const char* pattern;
    const char* key;
    bool match;
  };
  const Case cases[] = {
      {"order.*", "order.placed", true},
      {"order.*", "order.status_changed", true},
      {"order.*", "order", false},
      {"order.*", "order.placed.late", false},
      {"order.*", "orders.placed", false},
      {"order.*", "user.registered", false},
      {"#", "order.placed", true},
      {"#", "a", true},
      {"#", "a.b.c.d", true},
      {"order.#", "order", true},
      {"order.#", "order.placed", true},
      {"order.#", "order.a.b", true},
      {"order.#", "user.order", false},
      {"#.stock_low", "product.stock_low", true},
      {"#.stock_low", "stock_low", true},
      {"#.stock_low", "product.stock_high", false},
      {"*.placed", "order.placed", true},
      {"*.placed", "placed", false},
      {"*", "order", true},
      {"*", "order.placed", false},
      {"*.*", "order.placed", true},
      {"user.registered", "user.registered", true},
      {"user.registered", "user.registered2", false},
      {"a.#.z", "a.z", true},
      {"a.#.z", "a.b.c.z", true},
      {"a.#.z", "a.b.c", false},
      {"#.#", "a", true},
      {"*.#", "a", true},
      {"*.#", "a.b.c", true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(topic_matches(c.pattern, c.key), c.match) << c.pattern << " ~ " << c.key;
  }
}

// Found by fuzz.event: with a split tried at every '#', a pattern of many
// '#' against a key it does not match took exponential time.
TEST(Event, ManyHashWildcardsAreMatchedInPolynomialTime) {
  std::string pattern;
  std::string key;
  for (int i = 0; i < 40; ++i) {
    pattern += "#.";
    key += "w.";
  }
  pattern += "stock_low";
  key += "stock_high";
  EXPECT_FALSE(topic_matches(pattern, key));
  EXPECT_TRUE(topic_matches(pattern, key.substr(0, key.size() - 10) + "stock_low"));
}

TEST(Event, BindingPatternsAreChecked) {
  for (const char* ok : {"#", "*", "order.*", "order.#", "*.stock_low", "user.registered"}) {
    EXPECT_NO_THROW(validate_pattern(ok)) << ok;
  }
  for (const char* bad : {"", "order.", ".order", "order..x", "Order.*", "order.pl*", "a b"}) {
    EXPECT_THROW(validate_pattern(bad), std::invalid_argument) << bad;
  }
}

// The documented schema lists exactly the members encode() writes and every
// known event type.
TEST(Event, SchemaDocumentMatchesTheEncoder) {
  const auto path =
      std::filesystem::path(EMPORIUM_SOURCE_ROOT) / "lib" / "bus" / "event.schema.json";
  std::ifstream in(path);
  ASSERT_TRUE(in) << path;
  std::stringstream text;
  text << in.rdbuf();
  const auto schema = boost::json::parse(text.str()).as_object();

  std::set<std::string> required;
  for (const auto& r : schema.at("required").as_array()) {
    required.insert(std::string(r.as_string()));
  }
  const auto encoded = boost::json::parse(encode(make_event("a.b", "{}"))).as_object();
  std::set<std::string> members;
  for (const auto& [k, v] : encoded) {
    members.insert(std::string(k));
  }
  EXPECT_EQ(required, members);
  EXPECT_EQ(required, (std::set<std::string>{"id", "type", "time", "version", "payload"}));

  const auto& defs = schema.at("$defs").as_object();
  for (auto type : {types::order_placed, types::order_cancelled, types::order_status_changed,
                    types::user_registered, types::product_stock_low}) {
    EXPECT_TRUE(defs.contains(std::string(type) + ".v1")) << type;
  }
}

}  // namespace
}  // namespace emporium::bus
