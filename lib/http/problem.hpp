#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/message.hpp"

namespace emporium::http {

// One invalid input field, reported in a validation problem's `errors` list.
struct FieldError {
  std::string field;
  std::string msg;
};

// Builds an RFC 9457 problem+json response:
//   {"type","title","status","detail","error"[,"errors"]}
// `error` repeats `detail` (or the title when detail is empty) because the
// prototype's clients read that member. `type` defaults to "about:blank".
Response problem(int status, std::string_view detail = {}, std::vector<FieldError> errors = {},
                 std::string_view type = {});

// What one of a service's error codes means to a client: the status, the
// problem's title (the status's reason phrase when empty) and the text of
// `detail` and `error` when the failure carries no detail of its own.
struct ErrorSpec {
  int status = 500;
  std::string_view title;
  std::string_view error;
};

// An expected failure: a service's error code, a detail that replaces the
// table's text when the message names something ("Insufficient stock for
// Mug: 2 available"), and the invalid fields of a validation failure.
template <class Code>
struct Failure {
  Code code{};
  std::string detail{};
  std::vector<FieldError> fields{};
};

// The problem+json answer for `spec`, with `detail` instead of its text.
Response problem(const ErrorSpec& spec, std::string_view detail = {},
                 std::vector<FieldError> errors = {});

// The answer for a service's failure, from the service's table: each
// service's error header declares `const http::ErrorSpec& spec(Code)`,
// found here by argument-dependent lookup.
template <class Code>
Response problem(const Failure<Code>& failure) {
  return problem(spec(failure.code), failure.detail, failure.fields);
}

}  // namespace emporium::http
