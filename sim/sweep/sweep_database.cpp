#include "sim/sweep/sweep_database.h"

#include <sqlite3.h>

#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace cascade {

namespace {

constexpr int kSchemaVersion = 2;
constexpr int kBusyTimeoutMs = 60000;  // another process writing: wait, do not fail
constexpr const char* kCreateTable =
    "CREATE TABLE IF NOT EXISTS points ("
    " key TEXT PRIMARY KEY, sweep TEXT, idx INTEGER, point TEXT, status TEXT, error TEXT,"
    " mapping TEXT, P REAL, latency_s REAL, energy_j REAL, area_mm2 REAL, summary TEXT)";

std::string column_text(sqlite3_stmt* st, int c) {
  const unsigned char* t = sqlite3_column_text(st, c);
  return t ? reinterpret_cast<const char*>(t) : "";
}

std::string summary_json(const SummaryRow& row) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& [column, value] : row) j.push_back({column, value});
  return j.dump();
}

SummaryRow summary_from_json(const std::string& text) {
  SummaryRow row;
  if (text.empty()) return row;
  for (const auto& pair : nlohmann::json::parse(text))
    row.emplace_back(pair.at(0).get<std::string>(), pair.at(1).get<std::string>());
  return row;
}

}  // namespace

SweepDatabase::SweepDatabase(const std::string& file) : file_(file) {
  std::error_code ec;
  if (std::filesystem::exists(file, ec)) {
    if (!std::filesystem::is_regular_file(file, ec))
      throw Error("sweep database '" + file + "' is not a regular file");
    if (std::filesystem::file_size(file, ec) == 0 && !ec)
      throw Error("sweep database '" + file +
                  "' is an empty file (0 bytes), not a sweep database: remove it to start a new "
                  "one, or give another --db");
  }
  if (!std::filesystem::exists(file, ec)) create(file);
  if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    const std::string m = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw Error("sweep database '" + file + "': cannot open: " + m);
  }
  try {
    open_checked();
  } catch (...) {
    if (insert_) sqlite3_finalize(insert_);
    if (select_) sqlite3_finalize(select_);
    sqlite3_close(db_);
    db_ = nullptr;
    insert_ = select_ = nullptr;
    throw;
  }
}

// A new database is made complete (schema, WAL) under a temporary name and linked into
// place, so another process never sees a half-created (empty) file: of two processes
// creating the same database, one links and both then open that one.
void SweepDatabase::create(const std::string& file) {
  static std::atomic<unsigned> counter{0};
  const std::string temp = file + fmt::format(".tmp-{}-{}", ::getpid(), counter.fetch_add(1));
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(temp.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  char* message = nullptr;
  if (rc == SQLITE_OK)
    rc = sqlite3_exec(db,
                      ("PRAGMA journal_mode = WAL; PRAGMA user_version = " +
                       std::to_string(kSchemaVersion) + "; " + kCreateTable)
                          .c_str(),
                      nullptr, nullptr, &message);
  const std::string error = rc == SQLITE_OK ? "" : message ? message : sqlite3_errstr(rc);
  sqlite3_free(message);
  sqlite3_close(db);  // checkpoints the WAL and removes it
  if (!error.empty()) {
    ::unlink(temp.c_str());
    throw Error("sweep database '" + file + "': cannot create it: " + error);
  }
  if (::link(temp.c_str(), file.c_str()) != 0 && errno != EEXIST) {
    const int err = errno;
    // A file system without hard links: a rename (not exclusive, but whole).
    if (::rename(temp.c_str(), file.c_str()) != 0) {
      ::unlink(temp.c_str());
      throw Error("sweep database '" + file + "': cannot create it: " + std::strerror(err));
    }
    return;
  }
  ::unlink(temp.c_str());
}

void SweepDatabase::open_checked() {
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  sqlite3_extended_result_codes(db_, 0);
  sqlite3_stmt* st = prepare("PRAGMA user_version");
  int rc = sqlite3_step(st);
  const int version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
  sqlite3_finalize(st);
  if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT)
    throw Error("sweep database '" + file_ + "' is not a sweep database (" +
                sqlite3_errstr(rc) + "): give another --db");
  check_step(rc == SQLITE_ROW ? SQLITE_DONE : rc, "cannot read its schema version");
  // Damage (bytes overwritten, a truncated copy) is found before any point is computed.
  st = prepare("PRAGMA quick_check");
  std::string problems;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    std::string line = column_text(st, 0);
    std::replace(line.begin(), line.end(), '\n', ';');
    if (line != "ok" && problems.size() < 300) problems += (problems.empty() ? "" : "; ") + line;
  }
  sqlite3_finalize(st);
  if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB || !problems.empty())
    throw Error("sweep database '" + file_ + "' is damaged (SQLite quick_check: " +
                (problems.empty() ? std::string(sqlite3_errstr(rc)) : problems) +
                "): move it aside and rerun (its points are recomputed), or give another --db");
  check_step(rc, "cannot check it");
  bool has_table = false;
  st = prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'points'");
  rc = sqlite3_step(st);
  has_table = rc == SQLITE_ROW;
  sqlite3_finalize(st);
  check_step(rc == SQLITE_ROW ? SQLITE_DONE : rc, "cannot read its tables");
  if (has_table && version != kSchemaVersion)
    throw Error("sweep database '" + file_ + "' has schema version " + std::to_string(version) +
                ", this cascade writes version " + std::to_string(kSchemaVersion) +
                ": give another --db (or remove this one to recompute its points)");
  // WAL (set when the file is created): the CSV pass of one process does not block another's
  // commits. An older database is converted when no other process holds it.
  st = prepare("PRAGMA journal_mode");
  rc = sqlite3_step(st);
  const std::string mode = rc == SQLITE_ROW ? column_text(st, 0) : "";
  sqlite3_finalize(st);
  if (mode != "wal") sqlite3_exec(db_, "PRAGMA journal_mode = WAL", nullptr, nullptr, nullptr);
  if (!has_table) exec(kCreateTable);
  if (version != kSchemaVersion) exec("PRAGMA user_version = " + std::to_string(kSchemaVersion));
}

SweepDatabase::~SweepDatabase() {
  if (insert_) sqlite3_finalize(insert_);
  if (select_) sqlite3_finalize(select_);
  if (db_) sqlite3_close(db_);
}

void SweepDatabase::exec(const std::string& sql) {
  char* message = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    const std::string m = message ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
      throw Busy("sweep database '" + file_ + "': " + m + " (another process is writing it)");
    throw Error("sweep database '" + file_ + "': " + m);
  }
}

void SweepDatabase::check_step(int rc, const std::string& what) {
  if (rc == SQLITE_DONE || rc == SQLITE_ROW) return;
  const std::string m = "sweep database '" + file_ + "': " + what + ": " + sqlite3_errmsg(db_);
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) throw Busy(m + " (another process is writing it)");
  throw Error(m);
}

void SweepDatabase::begin() { exec("BEGIN IMMEDIATE"); }
void SweepDatabase::commit() { exec("COMMIT"); }
void SweepDatabase::rollback() {
  if (db_ && !sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

std::map<std::string, bool> SweepDatabase::stored() {
  std::map<std::string, bool> out;
  sqlite3_stmt* st = prepare("SELECT key, status FROM points");
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) out[column_text(st, 0)] = column_text(st, 1) == "ok";
  sqlite3_finalize(st);
  check_step(rc, "cannot read the stored points");
  return out;
}

void SweepDatabase::put(const std::string& sweep, const SweepResult& r) {
  if (!insert_)
    insert_ = prepare("INSERT OR REPLACE INTO points VALUES (?,?,?,?,?,?,?,?,?,?,?,?)");
  sqlite3_reset(insert_);
  int i = 1;
  auto text = [&](const std::string& v) {
    sqlite3_bind_text(insert_, i++, v.c_str(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  };
  text(r.key);
  text(sweep);
  sqlite3_bind_int64(insert_, i++, static_cast<sqlite3_int64>(r.index));
  text(r.values_json);
  text(r.ok ? "ok" : "error");
  text(r.error);
  text(r.mapping);
  for (double v : {r.P, r.latency_s, r.energy_j, r.area_mm2}) sqlite3_bind_double(insert_, i++, v);
  text(summary_json(r.summary));
  const int rc = sqlite3_step(insert_);
  sqlite3_reset(insert_);
  check_step(rc, "cannot store a point");
}

std::vector<SweepResult> SweepDatabase::ok_points(const std::string& sweep) {
  sqlite3_stmt* st = prepare(
      "SELECT key, idx, point, mapping, P, latency_s, energy_j, area_mm2 FROM points"
      " WHERE status = 'ok' AND (?1 = '' OR sweep = ?1) ORDER BY sweep, idx, key");
  sqlite3_bind_text(st, 1, sweep.c_str(), static_cast<int>(sweep.size()), SQLITE_TRANSIENT);
  std::vector<SweepResult> out;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    SweepResult r;
    r.ok = true;
    r.key = column_text(st, 0);
    r.index = static_cast<size_t>(sqlite3_column_int64(st, 1));
    r.values_json = column_text(st, 2);
    r.mapping = column_text(st, 3);
    r.P = sqlite3_column_double(st, 4);
    r.latency_s = sqlite3_column_double(st, 5);
    r.energy_j = sqlite3_column_double(st, 6);
    r.area_mm2 = sqlite3_column_double(st, 7);
    out.push_back(std::move(r));
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) fail("cannot read the points");
  return out;
}

bool SweepDatabase::get(const std::string& key, SweepResult& r) {
  if (!select_)
    select_ = prepare(
        "SELECT status, error, mapping, P, latency_s, energy_j, area_mm2, summary"
        " FROM points WHERE key = ?");
  sqlite3_reset(select_);
  sqlite3_bind_text(select_, 1, key.c_str(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
  const int rc = sqlite3_step(select_);
  if (rc != SQLITE_ROW) {
    sqlite3_reset(select_);
    check_step(rc, "cannot read a point");  // an error, not a missing row
    return false;
  }
  r.key = key;
  r.ok = column_text(select_, 0) == "ok";
  r.error = column_text(select_, 1);
  r.mapping = column_text(select_, 2);
  r.P = sqlite3_column_double(select_, 3);
  r.latency_s = sqlite3_column_double(select_, 4);
  r.energy_j = sqlite3_column_double(select_, 5);
  r.area_mm2 = sqlite3_column_double(select_, 6);
  const std::string summary = column_text(select_, 7);
  sqlite3_reset(select_);  // no read transaction left open between rows
  try {
    r.summary = summary_from_json(summary);
  } catch (const std::exception&) {
    throw Error("sweep database '" + file_ + "' is damaged: the stored summary of point " + key +
                " is not the JSON cascade writes; move it aside and rerun (its points are "
                "recomputed), or give another --db");
  }
  return true;
}

void SweepDatabase::merge(const std::string& other) {
  if (!std::filesystem::exists(other))
    throw Error("--merge: '" + other + "' is not a sweep database (no such file)");
  if (!std::filesystem::is_regular_file(other))
    throw Error("--merge: '" + other + "' is not a sweep database (not a regular file)");
  {
    SweepDatabase check(other);  // the same schema, or an Error naming the file
  }
  sqlite3_stmt* st = prepare("ATTACH DATABASE ? AS other");
  sqlite3_bind_text(st, 1, other.c_str(), static_cast<int>(other.size()), SQLITE_TRANSIENT);
  const int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) fail("cannot attach '" + other + "'");
  try {
    exec("INSERT OR REPLACE INTO points SELECT * FROM other.points");
  } catch (const Error&) {
    exec("DETACH DATABASE other");
    throw;
  }
  exec("DETACH DATABASE other");
}

sqlite3_stmt* SweepDatabase::prepare(const char* sql) {
  sqlite3_stmt* st = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql, -1, &st, nullptr);
  if (rc == SQLITE_NOTADB)
    throw Error("sweep database '" + file_ + "' is not a sweep database (" + sqlite3_errstr(rc) +
                "): give another --db");
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
    throw Busy("sweep database '" + file_ + "': " + sqlite3_errmsg(db_) +
               " (another process is writing it)");
  if (rc != SQLITE_OK) fail("cannot prepare a statement");
  return st;
}

void SweepDatabase::fail(const std::string& what) {
  throw Error("sweep database '" + file_ + "': " + what + ": " + sqlite3_errmsg(db_));
}

}  // namespace cascade
