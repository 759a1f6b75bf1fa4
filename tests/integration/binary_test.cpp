// The real emporium binary: start-up, configuration, ops endpoints, SIGTERM.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <fstream>

#include "support.hpp"

namespace emporium::test {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> serve_args(const std::string& data_dir) {
  return {"serve", "--listen=127.0.0.1:0", "--data-dir=" + data_dir, "--io-threads=2"};
}

std::string run_command(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  while (p != nullptr && fgets(buf, sizeof buf, p) != nullptr) {
    out += buf;
  }
  const int rc = p != nullptr ? pclose(p) : -1;
  return std::to_string(WEXITSTATUS(rc)) + "|" + out;
}

TEST(Binary, ServesHealthAndStopsCleanlyOnSigterm) {
  Process p(serve_args(temp_dir()));
  const auto port = p.wait_listening();
  auto health = request("GET", port, "/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, R"({"status":"ok"})");
  EXPECT_EQ(health->headers.get("Content-Type"), "application/json");
  EXPECT_TRUE(health->headers.has("X-Request-Id"));

  auto ready = request("GET", port, "/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);

  p.signal(SIGTERM);
  EXPECT_EQ(p.wait_exit(10s), 0);
  EXPECT_NE(p.output().find("\"msg\":\"stopped\""), std::string::npos) << p.output();
  EXPECT_FALSE(request("GET", port, "/healthz").has_value());
}

TEST(Binary, AccessLogIsOneJsonLinePerRequestWithTheRequestId) {
  Process p(serve_args(temp_dir()));
  const auto port = p.wait_listening();
  auto res = request("GET", port, "/healthz", {}, {"X-Request-Id: trace-abc-1"});
  ASSERT_TRUE(res);
  EXPECT_EQ(res->headers.get("X-Request-Id"), "trace-abc-1");
  auto line = p.wait_for_line("trace-abc-1", 3s);
  ASSERT_TRUE(line) << p.output();
  for (const char* field : {"\"time\":", "\"method\":\"GET\"", "\"route\":\"/healthz\"",
                            "\"status\":200", "\"bytes\":15", "\"duration_ms\":"}) {
    EXPECT_NE(line->find(field), std::string::npos) << field << " missing in " << *line;
  }
}

TEST(Binary, MetricsAreValidPrometheusText) {
  auto args = serve_args(temp_dir());
  args.emplace_back("--storefront=false");  // else the storefront takes every path
  Process p(args);
  const auto port = p.wait_listening();
  ASSERT_TRUE(request("GET", port, "/healthz"));
  ASSERT_TRUE(request("GET", port, "/no/such/route"));
  auto metrics = request("GET", p.wait_admin_listening(), "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find(
                "emporium_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"} 1"),
            std::string::npos)
      << metrics->body;
  EXPECT_NE(
      metrics->body.find(
          "emporium_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1"),
      std::string::npos);
  EXPECT_NE(metrics->body.find("emporium_http_request_duration_seconds_bucket"), std::string::npos);
  EXPECT_NE(metrics->body.find("process_resident_memory_bytes"), std::string::npos);

  const auto file = temp_file(metrics->body, ".prom");
  const auto out = run_command("promtool check metrics < " + file + " 2>&1");
  EXPECT_EQ(out.substr(0, 2), "0|") << out;
}

TEST(Binary, ConfigPrecedenceIsDefaultsThenFileThenEnvThenFlags) {
  const auto dir = temp_dir();
  const auto file = temp_file("max_body_bytes = 100\nlisten = \"127.0.0.1:0\"\n", ".toml");
  const std::string body_150(150, 'x');
  const std::string body_250(250, 'x');
  const std::string body_350(350, 'x');
  auto status = [](std::uint16_t port, const std::string& body) {
    auto r = request("POST", port, "/healthz", body);
    return r ? r->status : 0;
  };
  {  // file only: 100
    Process p({"serve", "--config=" + file, "--data-dir=" + dir});
    const auto port = p.wait_listening();
    EXPECT_EQ(status(port, body_150), 413);
  }
  {  // env beats file: 200
    Process p({"serve", "--config=" + file, "--data-dir=" + dir},
              {{"EMPORIUM_MAX_BODY_BYTES", "200"}});
    const auto port = p.wait_listening();
    EXPECT_EQ(status(port, body_150), 405);
    EXPECT_EQ(status(port, body_250), 413);
  }
  {  // flag beats env: 300; EMPORIUM_CONFIG names the file
    Process p({"serve", "--data-dir=" + dir, "--max-body-bytes=300"},
              {{"EMPORIUM_MAX_BODY_BYTES", "200"}, {"EMPORIUM_CONFIG", file}});
    const auto port = p.wait_listening();
    EXPECT_EQ(status(port, body_250), 405);
    EXPECT_EQ(status(port, body_350), 413);
  }
}

TEST(Binary, UnknownKeysAndBadValuesStopStartupNamingTheKey) {
  const auto dir = temp_dir();
  {
    Process p(serve_args(dir), {{"EMPORIUM_LISTEN_PORT", "9"}});
    EXPECT_EQ(p.wait_exit(5s), 2);
    EXPECT_NE(p.output().find("unknown configuration key EMPORIUM_LISTEN_PORT"), std::string::npos)
        << p.output();
  }
  {
    const auto file = temp_file("lissten = \"127.0.0.1:0\"\n", ".toml");
    Process p({"serve", "--config=" + file, "--data-dir=" + dir});
    EXPECT_EQ(p.wait_exit(5s), 2);
    EXPECT_NE(p.output().find("unknown configuration key 'lissten'"), std::string::npos)
        << p.output();
  }
  {
    Process p({"serve", "--listen=127.0.0.1:0", "--data-dir=" + dir, "--read-timeout=10"});
    EXPECT_EQ(p.wait_exit(5s), 2);
    EXPECT_NE(p.output().find("--read-timeout"), std::string::npos) << p.output();
  }
  {
    Process p({"serve", "--listen=nonsense", "--data-dir=" + dir});
    EXPECT_EQ(p.wait_exit(5s), 2);
    EXPECT_NE(p.output().find("--listen"), std::string::npos) << p.output();
  }
}

TEST(Binary, SecretsCanComeFromFiles) {
  const auto dir = temp_dir();
  const auto secret = temp_file("127.0.0.1:0\n");
  Process p({"serve", "--data-dir=" + dir}, {{"EMPORIUM_LISTEN_FILE", secret}});
  const auto port = p.wait_listening();
  EXPECT_GT(port, 0);
}

TEST(Binary, VersionAndMigrateSubcommands) {
  {
    Process p({"version"});
    EXPECT_EQ(p.wait_exit(5s), 0);
    EXPECT_EQ(p.output().rfind("emporium ", 0), 0U) << p.output();
  }
  {
    const auto dir = temp_dir();
    Process first({"migrate", "--data-dir=" + dir});
    EXPECT_EQ(first.wait_exit(10s), 0) << first.output();
    EXPECT_NE(first.output().find("\"msg\":\"migrations done\""), std::string::npos);
    Process second({"migrate", "--data-dir=" + dir});
    EXPECT_EQ(second.wait_exit(10s), 0);
    EXPECT_NE(second.output().find("\"applied\":0"), std::string::npos) << second.output();
  }
}

}  // namespace
}  // namespace emporium::test
