#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

namespace emporium::obs {

// A monotonically increasing value. Thread-safe, lock-free.
class Counter {
 public:
  void inc(double by = 1.0) noexcept { value_.fetch_add(by, std::memory_order_relaxed); }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// A value that goes up and down. Thread-safe, lock-free.
class Gauge {
 public:
  void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void inc(double by = 1.0) noexcept { value_.fetch_add(by, std::memory_order_relaxed); }
  void dec(double by = 1.0) noexcept { value_.fetch_sub(by, std::memory_order_relaxed); }
  double value() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

// A Prometheus histogram with fixed upper bounds (the +Inf bucket is implied).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void observe(double v) noexcept;
  const std::vector<double>& bounds() const noexcept { return bounds_; }
  // Per-bucket (non-cumulative) counts; the last entry is the +Inf bucket.
  std::vector<std::uint64_t> counts() const;
  double sum() const noexcept { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;
  std::atomic<double> sum_{0.0};
};

// Latency buckets in seconds, 100 µs to 10 s.
std::vector<double> default_latency_buckets();

// A metric with labels. `with` returns the child for one set of label values,
// creating it on first use; the reference stays valid for the registry's life.
template <class Metric>
class Family {
 public:
  Family(std::string name, std::string help, std::vector<std::string> labels,
         std::function<std::unique_ptr<Metric>()> make)
      : name_(std::move(name)),
        help_(std::move(help)),
        labels_(std::move(labels)),
        make_(std::move(make)) {}

  // Throws std::invalid_argument when the number of values differs from the
  // number of label names.
  Metric& with(const std::vector<std::string_view>& values);

  const std::string& name() const noexcept { return name_; }
  const std::string& help() const noexcept { return help_; }
  const std::vector<std::string>& labels() const noexcept { return labels_; }

  // Calls f(label_values, metric) for every child, in label order.
  template <class F>
  void for_each(F&& f) const {
    std::shared_lock lock(mutex_);
    for (const auto& [key, child] : children_) {
      f(child.first, *child.second);
    }
  }

 private:
  std::string name_;
  std::string help_;
  std::vector<std::string> labels_;
  std::function<std::unique_ptr<Metric>()> make_;
  mutable std::shared_mutex mutex_;
  std::map<std::string, std::pair<std::vector<std::string>, std::unique_ptr<Metric>>, std::less<>>
      children_;
};

// Holds every metric of a process and renders them in the Prometheus text
// exposition format (version 0.0.4).
class Registry {
 public:
  Family<Counter>& counter(std::string name, std::string help,
                           std::vector<std::string> labels = {});
  Family<Gauge>& gauge(std::string name, std::string help, std::vector<std::string> labels = {});
  Family<Histogram>& histogram(std::string name, std::string help, std::vector<std::string> labels,
                               std::vector<double> bounds = default_latency_buckets());

  // Adds a callback that appends already-formatted metric text when rendering
  // (for values read on demand, such as process memory).
  void add_collector(std::function<void(std::string&)> collector);

  std::string render() const;

 private:
  template <class Metric>
  Family<Metric>& family(std::vector<std::unique_ptr<Family<Metric>>>& families, std::string name,
                         std::string help, std::vector<std::string> labels,
                         std::function<std::unique_ptr<Metric>()> make);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Family<Counter>>> counters_;
  std::vector<std::unique_ptr<Family<Gauge>>> gauges_;
  std::vector<std::unique_ptr<Family<Histogram>>> histograms_;
  std::vector<std::function<void(std::string&)>> collectors_;
};

// Registers process_* metrics (CPU seconds, resident memory, open fds, start
// time) read from /proc at scrape time, and the log's
// emporium_log_lines_dropped_total (obs::register_log_metrics).
void register_process_metrics(Registry& registry);

}  // namespace emporium::obs
