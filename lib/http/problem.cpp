#include "http/problem.hpp"

#include <boost/json.hpp>

namespace emporium::http {

Response problem(int status, std::string_view detail, std::vector<FieldError> errors,
                 std::string_view type) {
  boost::json::object o;
  o["type"] = type.empty() ? std::string_view("about:blank") : type;
  o["title"] = reason_phrase(status);
  o["status"] = status;
  const std::string_view message = detail.empty() ? reason_phrase(status) : detail;
  o["detail"] = message;
  o["error"] = message;
  if (!errors.empty()) {
    boost::json::array list;
    list.reserve(errors.size());
    for (auto& e : errors) {
      list.push_back(boost::json::object{{"field", e.field}, {"msg", e.msg}});
    }
    o["errors"] = std::move(list);
  }
  Response r;
  r.status = status;
  r.headers.set("Content-Type", "application/problem+json");
  r.body = boost::json::serialize(o);
  return r;
}

}  // namespace emporium::http
