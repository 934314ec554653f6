// The SQLite store of a sweep: one row per point, keyed by a hash of everything it depends
// on. Schema version 2 (PRAGMA user_version): the point's index, axis values, status and
// error, the summary row (JSON, `cascade run --csv`'s schema) and the figures reports sort
// by as columns. A database of another version is refused, never silently reused.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "sim/sweep/sweep.h"

struct sqlite3;
struct sqlite3_stmt;

namespace cascade {

class SweepDatabase {
 public:
  // Opens (creating if missing) the database; another writer holding it is waited for.
  explicit SweepDatabase(const std::string& file);
  ~SweepDatabase();
  SweepDatabase(const SweepDatabase&) = delete;
  SweepDatabase& operator=(const SweepDatabase&) = delete;

  void begin();
  void commit();
  // key -> whether the stored point succeeded.
  std::map<std::string, bool> stored();
  void put(const std::string& sweep, const SweepResult& result);
  // The stored point of `key` (index, values and key are not read back); false if absent.
  bool get(const std::string& key, SweepResult& result);
  // Copies every row of another sweep database (same schema) into this one.
  void merge(const std::string& other);

 private:
  void exec(const std::string& sql);
  sqlite3_stmt* prepare(const char* sql);
  [[noreturn]] void fail(const std::string& what);

  std::string file_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* select_ = nullptr;
};

}  // namespace cascade
