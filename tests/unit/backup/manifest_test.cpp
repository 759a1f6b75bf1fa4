#include "backup/manifest.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace emporium::backup {
namespace {

namespace fs = std::filesystem;

class ManifestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() /
        ("emporium-manifest-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string& text) { std::ofstream(dir_ / kManifestFile) << text; }

  fs::path dir_;
};

Manifest sample() {
  return Manifest{kFormat,
                  "2026-12-01T02:00:00.000Z",
                  "0.1.0",
                  "abc1234",
                  812,
                  {{"order", "order.db", 2, 4096, std::string(64, 'a')},
                   {"product", "product.db", 3, 8192, std::string(64, 'b')}}};
}

TEST_F(ManifestTest, WrittenAndReadBackTheSame) {
  write_manifest(dir_, sample());
  const auto m = read_manifest(dir_);
  ASSERT_TRUE(m) << m.error();
  EXPECT_EQ(m->created_at, "2026-12-01T02:00:00.000Z");
  EXPECT_EQ(m->version, "0.1.0");
  EXPECT_EQ(m->write_pause_us, 812);
  ASSERT_EQ(m->databases.size(), 2u);
  EXPECT_EQ(m->databases[1].name, "product");
  EXPECT_EQ(m->databases[1].schema_version, 3);
  EXPECT_EQ(m->databases[1].size, 8192u);
  EXPECT_EQ(m->databases[1].sha256, std::string(64, 'b'));
  EXPECT_FALSE(fs::exists(dir_ / "manifest.json.tmp"));
}

TEST_F(ManifestTest, AMissingManifestSaysSo) {
  const auto m = read_manifest(dir_);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().find("manifest.json is missing"), std::string::npos) << m.error();
}

TEST_F(ManifestTest, DamagedOrForeignManifestsAreRefusedWithAReason) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{not json", "is damaged"},
      {R"({"format":2})", "backup format 2"},
      {R"({"format":1,"created_at":"t","emporium_version":"v","git_sha":"g","write_pause_us":1})",
       "is damaged"},
      {R"({"format":1,"created_at":"t","emporium_version":"v","git_sha":"g","write_pause_us":1,"databases":[]})",
       "lists no database"},
      {R"({"format":1,"created_at":"t","emporium_version":"v","git_sha":"g","write_pause_us":1,"databases":[{"name":"x","file":"../etc/passwd","schema_version":1,"size":1,"sha256":"a"}]})",
       "bad file name"},
      {R"({"format":1,"created_at":"t","emporium_version":"v","git_sha":"g","write_pause_us":1,"databases":[{"name":"x","file":"x.db","schema_version":"1","size":1,"sha256":"a"}]})",
       "is damaged"},
  };
  for (const auto& [text, reason] : cases) {
    write(text);
    const auto m = read_manifest(dir_);
    ASSERT_FALSE(m) << text;
    EXPECT_NE(m.error().find(reason), std::string::npos) << text << " -> " << m.error();
  }
}

TEST_F(ManifestTest, Sha256OfAFileIsItsDigest) {
  std::ofstream(dir_ / "f") << "abc";
  EXPECT_EQ(sha256_file(dir_ / "f"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_THROW(sha256_file(dir_ / "missing"), std::runtime_error);
}

}  // namespace
}  // namespace emporium::backup
