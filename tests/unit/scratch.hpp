#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace emporium::testing_support {

// A fresh directory `name` under this test process's scratch root
// ($TMPDIR/emporium-unit-<pid>), which is removed when the process exits: a
// run leaves nothing behind.
inline std::filesystem::path scratch_dir(const std::string& name) {
  struct Root {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("emporium-unit-" + std::to_string(::getpid()));
    ~Root() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const Root root;
  const auto dir = root.path / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace emporium::testing_support
