#include "http/problem.hpp"

#include <boost/json.hpp>

namespace emporium::http {

namespace {

Response render(int status, std::string_view title, std::string_view detail,
                std::vector<FieldError> errors, std::string_view type) {
  boost::json::object o;
  o["type"] = type.empty() ? std::string_view("about:blank") : type;
  o["title"] = title.empty() ? reason_phrase(status) : title;
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

}  // namespace

Response problem(int status, std::string_view detail, std::vector<FieldError> errors,
                 std::string_view type) {
  return render(status, {}, detail, std::move(errors), type);
}

Response problem(const ErrorSpec& spec, std::string_view detail, std::vector<FieldError> errors) {
  return render(spec.status, spec.title, detail.empty() ? spec.error : detail, std::move(errors),
                {});
}

}  // namespace emporium::http
