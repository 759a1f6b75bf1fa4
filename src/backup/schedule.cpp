#include "backup/schedule.hpp"

#include <algorithm>

#include "backup/snapshot.hpp"
#include "core/ids.hpp"
#include "obs/log.hpp"

namespace emporium::backup {

namespace fs = std::filesystem;

namespace {

// 20261201T101500.123Z: sorts by time, safe in a file name.
std::string stamp() {
  std::string t = core::now_iso8601();
  std::erase(t, '-');
  std::erase(t, ':');
  return t;
}

}  // namespace

Schedule::Schedule(ScheduleOptions options)
    : options_(std::move(options)), worker_("backups", [this](core::Worker& w) {
        while (w.wait_for(options_.interval)) {
          run_once();
        }
      }) {}

std::string Schedule::run_once() {
  const auto out = options_.backup_dir / ("emporium-" + stamp());
  try {
    fs::create_directories(options_.backup_dir);
  } catch (const std::exception& e) {
    obs::error("scheduled backup failed", {{"error", e.what()}});
    return {};
  }
  auto m = take(BackupOptions{.data_dir = options_.data_dir,
                              .out = out,
                              .databases = options_.databases,
                              .progress = [](const std::string& line) { obs::info(line); }});
  if (!m) {
    obs::error("scheduled backup failed", {{"error", m.error()}});
    return {};
  }
  obs::info("scheduled backup taken",
            {{"path", out.string()}, {"write_pause_us", m->write_pause_us}});
  prune();
  return out.string();
}

void Schedule::prune() {
  try {
    std::vector<fs::path> backups;
    for (const auto& entry : fs::directory_iterator(options_.backup_dir)) {
      const auto name = entry.path().filename().string();
      if (entry.is_directory() && name.rfind("emporium-", 0) == 0 &&
          name.find(".partial") == std::string::npos) {
        backups.push_back(entry.path());
      }
    }
    std::sort(backups.begin(), backups.end());
    const auto keep = static_cast<std::size_t>(std::max(options_.keep, 1));
    for (std::size_t i = 0; i + keep < backups.size(); ++i) {
      fs::remove_all(backups[i]);
      obs::info("old backup removed", {{"path", backups[i].string()}});
    }
  } catch (const std::exception& e) {
    obs::warn("pruning old backups failed", {{"error", e.what()}});
  }
}

}  // namespace emporium::backup
