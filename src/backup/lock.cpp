#include "backup/lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace emporium::backup {

std::optional<DataDirLock> DataDirLock::try_take(const std::filesystem::path& dir, Mode mode) {
  const auto path = dir / kLockFile;
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw std::runtime_error("cannot create " + path.string() + ": " + std::strerror(errno));
  }
  const int op = (mode == Mode::shared ? LOCK_SH : LOCK_EX) | LOCK_NB;
  if (::flock(fd, op) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return std::nullopt;
    }
    throw std::runtime_error("cannot lock " + path.string() + ": " + std::strerror(err));
  }
  return DataDirLock(fd);
}

DataDirLock::DataDirLock(DataDirLock&& other) noexcept : fd_(other.fd_) {
  other.fd_ = -1;
}

DataDirLock::~DataDirLock() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

}  // namespace emporium::backup
