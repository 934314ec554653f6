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

// Two processes may write one database at once (WAL journal: readers never block the
// writer; writers take turns, each waiting up to a busy timeout). A file that exists but is
// empty, is not an SQLite database, fails SQLite's quick_check or has another schema is
// refused with a message, never silently recreated.
class SweepDatabase {
 public:
  // The database was locked by another writer for longer than the busy timeout: nothing
  // was changed; the caller may retry.
  class Busy : public Error {
   public:
    using Error::Error;
  };

  // Opens (creating if missing) the database; another writer holding it is waited for.
  explicit SweepDatabase(const std::string& file);
  ~SweepDatabase();
  SweepDatabase(const SweepDatabase&) = delete;
  SweepDatabase& operator=(const SweepDatabase&) = delete;

  void begin();
  void commit();
  void rollback();  // of an open transaction, if any; never throws
  // key -> whether the stored point succeeded.
  std::map<std::string, bool> stored();
  void put(const std::string& sweep, const SweepResult& result);
  // The stored point of `key` (index, values and key are not read back); false if absent.
  bool get(const std::string& key, SweepResult& result);
  // The successful points of `sweep` ("" = every sweep), ordered by sweep and index: key,
  // index, values (JSON), mapping and the report's figures (no summary).
  std::vector<SweepResult> ok_points(const std::string& sweep);
  // Copies every row of another sweep database (same schema) into this one.
  void merge(const std::string& other);

 private:
  void exec(const std::string& sql);
  void check_step(int rc, const std::string& what);
  sqlite3_stmt* prepare(const char* sql);
  [[noreturn]] void fail(const std::string& what);
  void open_checked();  // the checks and schema of the constructor
  static void create(const std::string& file);

  std::string file_;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* select_ = nullptr;
};

}  // namespace cascade
