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

}  // namespace emporium::http
