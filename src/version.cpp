#include "version.hpp"

namespace emporium {

std::string_view version() noexcept {
  return EMPORIUM_VERSION;
}
std::string_view git_sha() noexcept {
  return EMPORIUM_GIT_SHA;
}

}  // namespace emporium
