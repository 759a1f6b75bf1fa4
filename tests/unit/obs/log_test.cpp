#include "obs/log.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <condition_variable>
#include <future>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

namespace emporium::obs {
namespace {

using namespace std::chrono_literals;

// What a LineQueue wrote, batch by batch; optionally holding the first
// batch until released, as a stuck disk would.
class Sink {
 public:
  explicit Sink(bool hold_first = false) : hold_(hold_first) {}

  LineQueue::Write writer() {
    return [this](std::string_view batch) {
      std::unique_lock lock(mutex_);
      ++batches_;
      if (hold_) {
        held_ = true;
        cv_.notify_all();
        cv_.wait(lock, [this] { return !hold_; });
      }
      text_.append(batch);
    };
  }
  // Waits until the writer holds a batch; false after `timeout`.
  bool wait_held(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [this] { return held_; });
  }
  void release() {
    const std::lock_guard lock(mutex_);
    hold_ = false;
    cv_.notify_all();
  }
  std::string text() {
    const std::lock_guard lock(mutex_);
    return text_;
  }
  int batches() {
    const std::lock_guard lock(mutex_);
    return batches_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool hold_;
  bool held_ = false;
  int batches_ = 0;
  std::string text_;
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    out.push_back(line);
  }
  return out;
}

TEST(LineQueue, WritesEveryLineWholeAndInOrderInFewBatches) {
  Sink sink;
  std::vector<std::string> sent;
  {
    LineQueue q(1 << 20, 1h, sink.writer());
    for (int i = 0; i < 5000; ++i) {
      sent.push_back("line " + std::to_string(i) +
                     std::string(static_cast<std::size_t>(i % 40), 'x'));
      ASSERT_TRUE(q.push(sent.back()));
    }
    EXPECT_EQ(sink.batches(), 0) << "nothing written before the interval, a flush or a stop";
    q.flush();
    EXPECT_EQ(lines_of(sink.text()), sent);
    EXPECT_EQ(sink.batches(), 1);
    EXPECT_EQ(q.dropped(), 0U);
  }
}

TEST(LineQueue, LinesFromSeveralThreadsKeepEachThreadsOrder) {
  Sink sink;
  {
    LineQueue q(1 << 20, 1ms, sink.writer());
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&q, t] {
        for (int i = 0; i < 2000; ++i) {
          q.push(std::to_string(t) + " " + std::to_string(i));
        }
      });
    }
    for (auto& th : threads) {
      th.join();
    }
  }
  std::vector<int> next(4, 0);
  const auto lines = lines_of(sink.text());
  ASSERT_EQ(lines.size(), 8000U);
  for (const auto& line : lines) {
    const int t = std::stoi(line.substr(0, 1));
    EXPECT_EQ(std::stoi(line.substr(2)), next[static_cast<std::size_t>(t)]++) << line;
  }
}

TEST(LineQueue, AFullBufferDropsAndCountsWhatDoesNotFit) {
  Sink sink(/*hold_first=*/true);
  LineQueue q(100, 1h, sink.writer());
  ASSERT_TRUE(q.push("first", /*urgent=*/true));  // wakes the writer, which then hangs
  ASSERT_TRUE(sink.wait_held(5s));
  // 9 lines of 10 characters and a newline fit in 100 bytes; 6 more do not.
  int taken = 0;
  for (int i = 0; i < 15; ++i) {
    taken += q.push("0123456789") ? 1 : 0;
  }
  EXPECT_EQ(taken, 9);
  EXPECT_EQ(q.dropped(), 6U);
  sink.release();
  q.stop();
  const auto lines = lines_of(sink.text());
  ASSERT_EQ(lines.size(), 10U);
  EXPECT_EQ(lines.front(), "first");
  EXPECT_EQ(lines.back(), "0123456789");
  EXPECT_EQ(q.dropped(), 6U);
}

TEST(LineQueue, StopWritesWhatIsPendingAndLaterLinesAtOnce) {
  Sink sink;
  LineQueue q(1 << 20, 1h, sink.writer());
  q.push("a");
  q.push("b");
  EXPECT_EQ(sink.text(), "");
  q.stop();
  EXPECT_EQ(sink.text(), "a\nb\n");
  q.push("after");
  EXPECT_EQ(sink.text(), "a\nb\nafter\n");
  q.stop();  // idempotent
}

TEST(LineQueue, UrgentLinesAreWrittenWithoutWaitingForTheInterval) {
  Sink sink;
  LineQueue q(1 << 20, 1h, sink.writer());
  q.push("info");
  q.push("error", /*urgent=*/true);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (sink.text().empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(sink.text(), "info\nerror\n");
}

TEST(LogFormat, JsonStringsAreEscapedAsJson) {
  std::string out;
  append_json_string(out, "a\"b\\c\n\x01/é");
  EXPECT_EQ(out, R"("a\"b\\c\n\u0001/é")");
  EXPECT_EQ(boost::json::parse(out).as_string(), "a\"b\\c\n\x01/é");
}

}  // namespace
}  // namespace emporium::obs
