#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/result.hpp"

// What an embedded-shape backup holds: a directory with one SQLite file per
// service database and manifest.json describing them.
namespace emporium::backup {

inline constexpr std::string_view kManifestFile = "manifest.json";
inline constexpr int kFormat = 1;

// One service database in a backup.
struct DatabaseEntry {
  std::string name;                 // service: product, user, cart, order, notification
  std::string file;                 // file name inside the backup ("product.db")
  std::int64_t schema_version = 0;  // highest migration applied
  std::uintmax_t size = 0;          // bytes
  std::string sha256;               // hex
};

struct Manifest {
  int format = kFormat;
  std::string created_at;  // ISO 8601 UTC, the instant of the snapshot
  std::string version;     // Emporium version that wrote it
  std::string git_sha;
  std::int64_t write_pause_us = 0;  // how long writes waited for the snapshot
  std::vector<DatabaseEntry> databases;
};

// Hex SHA-256 of a file's contents. Throws std::runtime_error when it cannot
// be read.
std::string sha256_file(const std::filesystem::path& path);

// Writes `m` as DIR/manifest.json (through a temporary file and a rename).
void write_manifest(const std::filesystem::path& dir, const Manifest& m);

// Reads DIR/manifest.json; fails with a sentence saying what is wrong
// (missing, not JSON, a field missing or of the wrong type).
core::Result<Manifest, std::string> read_manifest(const std::filesystem::path& dir);

}  // namespace emporium::backup
