#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "db/db.hpp"

namespace emporium::db {

struct Migration {
  int version = 0;   // NNNN from the file name
  std::string name;  // the rest of the file name, without .sql
  std::string sql;
};

// Builds migrations from (file name, SQL) pairs, e.g. files embedded in the
// binary. Same naming rules and errors as load_migrations.
std::vector<Migration> migrations_from(
    const std::vector<std::pair<std::string_view, std::string_view>>& files);

// Reads every NNNN_name.sql file of `dir`, sorted by version. Throws
// std::runtime_error for a badly named file or two files with one version.
std::vector<Migration> load_migrations(const std::filesystem::path& dir);

// Applies the migrations of `owner` (a service name) that are not yet recorded
// in the schema_migrations table, in version order, each in one transaction
// together with its record. Returns how many were applied; a second run
// applies none. Throws DbError when a statement fails (that migration is
// rolled back) and std::runtime_error when a recorded migration's name differs
// from the given one (the files were changed after being applied).
int migrate(Database& db, std::string_view owner, const std::vector<Migration>& migrations);

}  // namespace emporium::db
