#pragma once

#include <filesystem>
#include <optional>
#include <string>

// Who holds an embedded-shape data directory: every `serve` on it holds a
// shared lock on DIR/.emporium.lock (flock), `restore` an exclusive one, so
// a restore never writes under a running shop and a shop never starts on a
// half-restored directory. The kernel drops the lock when the process exits,
// however it exits.
namespace emporium::backup {

inline constexpr std::string_view kLockFile = ".emporium.lock";

class DataDirLock {
 public:
  enum class Mode { shared, exclusive };

  // Takes the lock without waiting; nullopt when another process holds it
  // in a conflicting mode. Throws std::runtime_error when the lock file
  // cannot be created.
  static std::optional<DataDirLock> try_take(const std::filesystem::path& dir, Mode mode);

  DataDirLock(DataDirLock&& other) noexcept;
  DataDirLock& operator=(DataDirLock&&) = delete;
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;
  ~DataDirLock();

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace emporium::backup
