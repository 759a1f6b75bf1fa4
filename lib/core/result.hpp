#pragma once

#include <type_traits>
#include <utility>
#include <variant>

namespace emporium::core {

// The error half of a Result, so that `return core::fail(e);` reads as what
// it is even when the value and error types could convert into each other.
template <class E>
struct Failed {
  E error;
};

template <class E>
Failed<std::decay_t<E>> fail(E&& error) {
  return {std::forward<E>(error)};
}

// Either a value or an expected failure (a service's error code, a bad
// input): the way code here reports what a caller must handle. Exceptions
// stay for bugs and broken infrastructure. Reading value() of a failed
// result, or error() of a good one, is a bug (std::bad_variant_access).
template <class T, class E>
class [[nodiscard]] Result {
 public:
  using value_type = T;
  using error_type = E;

  // NOLINTNEXTLINE(google-explicit-constructor): a value converts to a good result.
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  // NOLINTNEXTLINE(google-explicit-constructor): so does a failure to a failed one.
  Result(Failed<E> failed) : state_(std::in_place_index<1>, std::move(failed.error)) {}

  bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  E& error() & { return std::get<1>(state_); }
  const E& error() const& { return std::get<1>(state_); }
  E&& error() && { return std::get<1>(std::move(state_)); }

 private:
  std::variant<T, E> state_;
};

// A result with nothing to return on success.
template <class E>
class [[nodiscard]] Result<void, E> {
 public:
  using value_type = void;
  using error_type = E;

  Result() = default;
  // NOLINTNEXTLINE(google-explicit-constructor)
  Result(Failed<E> failed) : error_(std::move(failed.error)), failed_(true) {}

  bool ok() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return ok(); }

  const E& error() const& { return error_; }
  E&& error() && { return std::move(error_); }

 private:
  E error_{};
  bool failed_ = false;
};

}  // namespace emporium::core
