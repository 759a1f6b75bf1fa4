#pragma once

#include <string_view>

namespace emporium {

// This build's version ("0.1.0") and the commit it was built from (short
// SHA, or "unknown" outside a git checkout).
std::string_view version() noexcept;
std::string_view git_sha() noexcept;

}  // namespace emporium
