#include "config/config.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "../scratch.hpp"

namespace emporium::config {
namespace {

const std::vector<KeyDef> kSchema = {
    {"listen", Kind::address, "0.0.0.0:8080", "address"},
    {"threads", Kind::integer, "0", "threads", 0, 64},
    {"timeout", Kind::duration, "10s", "timeout"},
    {"debug", Kind::boolean, "false", "debug"},
    {"secret", Kind::string, "", "secret"},
    {"level", Kind::string, "info", "level", 0, 0, {"info", "warn"}},
};

std::string write_file(const std::string& name, const std::string& text) {
  const auto path = testing_support::scratch_dir("config-" + name) / name;
  std::ofstream(path) << text;
  return path.string();
}

TEST(Config, DefaultsApplyWhenNothingIsGiven) {
  auto c = Config::load(kSchema, std::nullopt, {}, {});
  EXPECT_EQ(c.address("listen").host, "0.0.0.0");
  EXPECT_EQ(c.address("listen").port, 8080);
  EXPECT_EQ(c.integer("threads"), 0);
  EXPECT_EQ(c.duration("timeout"), std::chrono::seconds(10));
  EXPECT_FALSE(c.boolean("debug"));
  EXPECT_EQ(c.source("threads"), "default");
}

TEST(Config, FileThenEnvThenFlagsOverride) {
  const auto file =
      write_file("emporium-precedence.toml",
                 "threads = 2\ntimeout = \"5s\"\ndebug = true\nlisten = \"1.2.3.4:1\"\n");
  auto c = Config::load(kSchema, file, {{"EMPORIUM_THREADS", "3"}, {"EMPORIUM_TIMEOUT", "250ms"}},
                        {{"threads", "4"}});
  EXPECT_EQ(c.integer("threads"), 4);
  EXPECT_EQ(c.source("threads"), "flag");
  EXPECT_EQ(c.duration("timeout"), std::chrono::milliseconds(250));
  EXPECT_EQ(c.source("timeout"), "env");
  EXPECT_TRUE(c.boolean("debug"));
  EXPECT_EQ(c.source("debug"), "file");
  EXPECT_EQ(c.address("listen").host, "1.2.3.4");
}

TEST(Config, UnknownKeysAreRejectedWithTheirName) {
  const auto file = write_file("emporium-unknown.toml", "thread = 2\n");
  try {
    Config::load(kSchema, file, {}, {});
    FAIL() << "unknown file key accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'thread'"), std::string::npos) << e.what();
  }
  try {
    Config::load(kSchema, std::nullopt, {{"EMPORIUM_THREAD", "2"}}, {});
    FAIL() << "unknown env key accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("EMPORIUM_THREAD"), std::string::npos) << e.what();
  }
}

TEST(Config, BadValuesAreRejectedWithTheKeyAndSource) {
  struct Case {
    std::map<std::string, std::string> env;
    std::map<std::string, std::string> flags;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {{{"EMPORIUM_THREADS", "many"}}, {}, "EMPORIUM_THREADS"},
      {{{"EMPORIUM_THREADS", "65"}}, {}, "between 0 and 64"},
      {{}, {{"timeout", "10"}}, "--timeout"},
      {{}, {{"listen", "8080"}}, "--listen"},
      {{}, {{"listen", "host:70000"}}, "--listen"},
      {{}, {{"debug", "maybe"}}, "--debug"},
      {{}, {{"level", "loud"}}, "must be one of info, warn"},
  };
  for (const auto& c : cases) {
    try {
      Config::load(kSchema, std::nullopt, c.env, c.flags);
      ADD_FAILURE() << "accepted bad value, expected " << c.expect;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(c.expect), std::string::npos) << e.what();
    }
  }
}

TEST(Config, MalformedFileNamesTheFileAndLine) {
  const auto file = write_file("emporium-bad.toml", "threads = 2\nthis is not toml\n");
  try {
    Config::load(kSchema, file, {}, {});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("line 2"), std::string::npos) << e.what();
  }
}

TEST(Config, SecretsComeFromFilesWithoutTrailingNewline) {
  const auto secret = write_file("emporium-secret.txt", "s3cr3t-value\n");
  auto c = Config::load(kSchema, std::nullopt, {{"EMPORIUM_SECRET_FILE", secret}}, {});
  EXPECT_EQ(c.str("secret"), "s3cr3t-value");
  const auto file = write_file("emporium-secret.toml", "secret_file = \"" + secret + "\"\n");
  EXPECT_EQ(Config::load(kSchema, file, {}, {}).str("secret"), "s3cr3t-value");
  EXPECT_THROW(
      Config::load(kSchema, std::nullopt, {{"EMPORIUM_SECRET_FILE", "/nonexistent/x"}}, {}),
      ConfigError);
}

TEST(Config, ParsesAddressesAndDurations) {
  EXPECT_EQ(parse_address("[::1]:443")->host, "::1");
  EXPECT_EQ(parse_address("[::1]:443")->port, 443);
  EXPECT_FALSE(parse_address("::1:443"));
  EXPECT_FALSE(parse_address(":80"));
  EXPECT_EQ(parse_duration("2m"), std::chrono::minutes(2));
  EXPECT_EQ(parse_duration("1h"), std::chrono::hours(1));
  EXPECT_FALSE(parse_duration("5"));
  EXPECT_FALSE(parse_duration("-5s"));
  EXPECT_FALSE(parse_duration("s"));
  EXPECT_EQ(env_name("data_dir"), "EMPORIUM_DATA_DIR");
  EXPECT_EQ(flag_name("data_dir"), "data-dir");
}

}  // namespace
}  // namespace emporium::config
