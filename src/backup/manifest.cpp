#include "backup/manifest.hpp"

#include <openssl/evp.h>

#include <array>
#include <boost/json.hpp>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace emporium::backup {

namespace json = boost::json;

std::string sha256_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("cannot read " + path.string());
  }
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::array<char, 1 << 16> buf{};
  while (in) {
    in.read(buf.data(), buf.size());
    EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<std::size_t>(in.gcount()));
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md.data(), &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xF];
  }
  return out;
}

void write_manifest(const std::filesystem::path& dir, const Manifest& m) {
  json::array dbs;
  for (const auto& d : m.databases) {
    dbs.push_back(json::object{{"name", d.name},
                               {"file", d.file},
                               {"schema_version", d.schema_version},
                               {"size", d.size},
                               {"sha256", d.sha256}});
  }
  const json::object doc{
      {"format", m.format},   {"created_at", m.created_at},         {"emporium_version", m.version},
      {"git_sha", m.git_sha}, {"write_pause_us", m.write_pause_us}, {"databases", std::move(dbs)}};
  const auto tmp = dir / (std::string(kManifestFile) + ".tmp");
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << json::serialize(doc) << "\n";
    if (!out.flush()) {
      throw std::runtime_error("cannot write " + tmp.string());
    }
  }
  std::filesystem::rename(tmp, dir / kManifestFile);
}

namespace {

DatabaseEntry read_entry(const json::object& o) {
  DatabaseEntry d;
  d.name = json::value_to<std::string>(o.at("name"));
  d.file = json::value_to<std::string>(o.at("file"));
  d.schema_version = o.at("schema_version").to_number<std::int64_t>();
  d.size = o.at("size").to_number<std::uintmax_t>();
  d.sha256 = json::value_to<std::string>(o.at("sha256"));
  if (d.file.empty() || d.file.find('/') != std::string::npos || d.file.front() == '.') {
    throw std::invalid_argument("bad file name '" + d.file + "'");
  }
  return d;
}

}  // namespace

core::Result<Manifest, std::string> read_manifest(const std::filesystem::path& dir) {
  const auto path = dir / kManifestFile;
  std::ifstream in(path);
  if (!in) {
    return core::fail(path.string() +
                      " is missing: this is not an Emporium backup, or it is "
                      "incomplete");
  }
  std::stringstream text;
  text << in.rdbuf();
  try {
    const auto doc = json::parse(text.str()).as_object();
    Manifest m;
    m.format = doc.at("format").to_number<int>();
    if (m.format != kFormat) {
      return core::fail(path.string() + ": backup format " + std::to_string(m.format) +
                        " is not one this version reads (" + std::to_string(kFormat) + ")");
    }
    m.created_at = json::value_to<std::string>(doc.at("created_at"));
    m.version = json::value_to<std::string>(doc.at("emporium_version"));
    m.git_sha = json::value_to<std::string>(doc.at("git_sha"));
    m.write_pause_us = doc.at("write_pause_us").to_number<std::int64_t>();
    for (const auto& d : doc.at("databases").as_array()) {
      m.databases.push_back(read_entry(d.as_object()));
    }
    if (m.databases.empty()) {
      return core::fail(path.string() + " lists no database");
    }
    return m;
  } catch (const std::exception& e) {
    return core::fail(path.string() + " is damaged: " + e.what());
  }
}

}  // namespace emporium::backup
