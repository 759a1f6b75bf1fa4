#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "core/worker.hpp"

namespace emporium::backup {

struct ScheduleOptions {
  std::filesystem::path data_dir;
  std::filesystem::path backup_dir;  // backups go to backup_dir/emporium-<UTC time>
  std::chrono::milliseconds interval{0};
  int keep = 7;  // the newest `keep` backups stay; older ones are removed
  std::vector<std::string> databases;
};

// `serve`'s own backups: every `interval` an online backup of the data
// directory (as `emporium backup` takes it), then the oldest beyond `keep`
// removed. A failed backup is logged and tried again at the next interval.
class Schedule {
 public:
  explicit Schedule(ScheduleOptions options);

  // Takes one backup and prunes; returns its path, or "" when it failed.
  std::string run_once();

 private:
  void prune();
  ScheduleOptions options_;
  core::Worker worker_;  // last: starts once the options are set
};

}  // namespace emporium::backup
