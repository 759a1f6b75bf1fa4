#include "obs/metrics.hpp"

#include <dirent.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "obs/log.hpp"

namespace emporium::obs {

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)),
      counts_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
  std::sort(bounds_.begin(), bounds_.end());
}

void Histogram::observe(double v) noexcept {
  const auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
  counts_[static_cast<std::size_t>(it - bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::counts() const {
  std::vector<std::uint64_t> out(bounds_.size() + 1);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = counts_[i].load(std::memory_order_relaxed);
  }
  return out;
}

std::vector<double> default_latency_buckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1.0,    2.5,   5.0,  10.0};
}

template <class Metric>
Metric& Family<Metric>::with(const std::vector<std::string_view>& values) {
  if (values.size() != labels_.size()) {
    throw std::invalid_argument("metric " + name_ + ": wrong number of label values");
  }
  std::string key;
  for (auto v : values) {
    key.append(v);
    key.push_back('\xff');
  }
  {
    std::shared_lock lock(mutex_);
    if (auto it = children_.find(key); it != children_.end()) {
      return *it->second.second;
    }
  }
  std::unique_lock lock(mutex_);
  auto [it, inserted] = children_.try_emplace(key);
  if (inserted) {
    it->second.first.assign(values.begin(), values.end());
    it->second.second = make_();
  }
  return *it->second.second;
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

namespace {

std::string escape_label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string format_value(double v) {
  if (v == std::numeric_limits<double>::infinity()) {
    return "+Inf";
  }
  return fmt::format("{}", v);
}

// Renders {a="x",b="y"} plus an optional extra label (used for "le").
std::string label_set(const std::vector<std::string>& names, const std::vector<std::string>& values,
                      std::string_view extra_name = {}, std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) {
    return {};
  }
  std::string out = "{";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) {
      out += ',';
    }
    out += names[i];
    out += "=\"";
    out += escape_label(values[i]);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!names.empty()) {
      out += ',';
    }
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
  return out;
}

void header(std::string& out, const std::string& name, const std::string& help,
            std::string_view type) {
  out += "# HELP " + name + " " + help + "\n";
  out += "# TYPE " + name + " " + std::string(type) + "\n";
}

template <class F>
void render_simple(std::string& out, const F& family, std::string_view type) {
  header(out, family.name(), family.help(), type);
  family.for_each([&](const std::vector<std::string>& values, const auto& metric) {
    out += family.name() + label_set(family.labels(), values) + " " + format_value(metric.value()) +
           "\n";
  });
}

// True when `families` holds one named `name`.
template <class Metric>
bool holds(const std::vector<std::unique_ptr<Family<Metric>>>& families, const std::string& name) {
  return std::any_of(families.begin(), families.end(),
                     [&](const auto& f) { return f->name() == name; });
}

}  // namespace

// A name is one family: asked for again with the same labels, the registry
// hands back the family it holds (two would print the name's TYPE twice, which
// Prometheus refuses); with other labels or of another kind, it is a
// programming error.
template <class Metric>
Family<Metric>& Registry::family(std::vector<std::unique_ptr<Family<Metric>>>& families,
                                 std::string name, std::string help,
                                 std::vector<std::string> labels,
                                 std::function<std::unique_ptr<Metric>()> make) {
  for (const auto& f : families) {
    if (f->name() == name) {
      if (f->labels() != labels) {
        throw std::invalid_argument("metric " + name + " registered again with other labels");
      }
      return *f;
    }
  }
  if (holds(counters_, name) || holds(gauges_, name) || holds(histograms_, name)) {
    throw std::invalid_argument("metric " + name + " registered again as another kind");
  }
  return *families.emplace_back(std::make_unique<Family<Metric>>(
      std::move(name), std::move(help), std::move(labels), std::move(make)));
}

Family<Counter>& Registry::counter(std::string name, std::string help,
                                   std::vector<std::string> labels) {
  std::lock_guard lock(mutex_);
  return family<Counter>(counters_, std::move(name), std::move(help), std::move(labels),
                         [] { return std::make_unique<Counter>(); });
}

Family<Gauge>& Registry::gauge(std::string name, std::string help,
                               std::vector<std::string> labels) {
  std::lock_guard lock(mutex_);
  return family<Gauge>(gauges_, std::move(name), std::move(help), std::move(labels),
                       [] { return std::make_unique<Gauge>(); });
}

Family<Histogram>& Registry::histogram(std::string name, std::string help,
                                       std::vector<std::string> labels,
                                       std::vector<double> bounds) {
  std::lock_guard lock(mutex_);
  return family<Histogram>(
      histograms_, std::move(name), std::move(help), std::move(labels),
      [bounds = std::move(bounds)] { return std::make_unique<Histogram>(bounds); });
}

void Registry::add_collector(std::function<void(std::string&)> collector) {
  std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(collector));
}

std::string Registry::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& f : counters_) {
    render_simple(out, *f, "counter");
  }
  for (const auto& f : gauges_) {
    render_simple(out, *f, "gauge");
  }
  for (const auto& f : histograms_) {
    header(out, f->name(), f->help(), "histogram");
    f->for_each([&](const std::vector<std::string>& values, const Histogram& h) {
      const auto counts = h.counts();
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < counts.size(); ++i) {
        cumulative += counts[i];
        const std::string le = i < h.bounds().size() ? format_value(h.bounds()[i]) : "+Inf";
        out += f->name() + "_bucket" + label_set(f->labels(), values, "le", le) + " " +
               std::to_string(cumulative) + "\n";
      }
      out +=
          f->name() + "_sum" + label_set(f->labels(), values) + " " + format_value(h.sum()) + "\n";
      out += f->name() + "_count" + label_set(f->labels(), values) + " " +
             std::to_string(cumulative) + "\n";
    });
  }
  for (const auto& c : collectors_) {
    c(out);
  }
  return out;
}

void register_process_metrics(Registry& registry) {
  const double start =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  registry.add_collector([start](std::string& out) {
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    double cpu = 0;
    double rss = 0;
    {
      std::ifstream stat("/proc/self/stat");
      std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
      // Fields after the parenthesised command name; utime and stime are 14 and 15.
      const auto close = content.rfind(')');
      if (close != std::string::npos) {
        std::istringstream rest(content.substr(close + 2));
        std::string field;
        double utime = 0;
        double stime = 0;
        for (int i = 3; i <= 15 && rest >> field; ++i) {
          if (i == 14) {
            utime = std::stod(field);
          } else if (i == 15) {
            stime = std::stod(field);
          }
        }
        cpu = (utime + stime) / ticks;
      }
    }
    {
      std::ifstream statm("/proc/self/statm");
      double size = 0;
      double resident = 0;
      statm >> size >> resident;
      rss = resident * page;
    }
    double fds = 0;
    if (DIR* d = opendir("/proc/self/fd")) {
      while (readdir(d) != nullptr) {
        ++fds;
      }
      closedir(d);
      fds -= 3;  // ".", ".." and the directory stream itself
    }
    header(out, "process_cpu_seconds_total", "Total user and system CPU time in seconds.",
           "counter");
    out += "process_cpu_seconds_total " + format_value(cpu) + "\n";
    header(out, "process_resident_memory_bytes", "Resident memory size in bytes.", "gauge");
    out += "process_resident_memory_bytes " + format_value(rss) + "\n";
    header(out, "process_open_fds", "Number of open file descriptors.", "gauge");
    out += "process_open_fds " + format_value(fds) + "\n";
    header(out, "process_start_time_seconds", "Start time of the process since the Unix epoch.",
           "gauge");
    out += "process_start_time_seconds " + format_value(start) + "\n";
  });
  register_log_metrics(registry);
}

}  // namespace emporium::obs
