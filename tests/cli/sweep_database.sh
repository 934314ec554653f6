#!/usr/bin/env bash
# The sweep database: two writers, a writer that holds the lock, a database that fails in
# the middle of a run, damaged and empty files, --merge mistakes. Never std::terminate,
# never a lost computed row.
#   sweep_database.sh CASCADE SOURCE_DIR WORK_DIR
set -u
cascade="$1"; src="$2"; work="$3"
rm -rf "$work"; mkdir -p "$work"; cd "$work" || exit 1
py=/usr/bin/python3
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
expect() {
  local want="$1" fragment="$2"; shift 2
  local out code
  out="$("$@" 2>&1)"; code=$?
  if [ "$code" != "$want" ]; then fail "exit $code (want $want): $*"; echo "$out" | tail -5; fi
  if [ -n "$fragment" ] && ! grep -qF -- "$fragment" <<<"$out"; then
    fail "no '$fragment' in the output of: $*"; echo "$out" | tail -5
  fi
  if grep -qE "terminate called|Aborted|core dumped" <<<"$out"; then fail "aborted: $*"; fi
}
rows() { $py -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from points').fetchone()[0])" "$1"; }
sweep="$src/configs/sweeps/fusemax-design-space.yaml"   # 96 points

# Reference CSV from one writer.
expect 0 "(96 of 96 points)" "$cascade" sweep "$sweep" --db ref.sqlite --csv ref.csv --quiet

# Two writers on one database at once: both finish, both CSVs complete and equal.
"$cascade" sweep "$sweep" --db two.sqlite --csv a.csv --quiet -j 1 > a.log 2>&1 & pa=$!
"$cascade" sweep "$sweep" --db two.sqlite --csv b.csv --quiet -j 1 > b.log 2>&1 & pb=$!
wait $pa; ca=$?; wait $pb; cb=$?
[ "$ca" = 0 ] && [ "$cb" = 0 ] || { fail "two writers: exits $ca, $cb"; cat a.log b.log; }
cmp -s a.csv ref.csv && cmp -s b.csv ref.csv || fail "two writers: CSVs differ from one writer's"
[ "$(rows two.sqlite)" = 96 ] || fail "two writers: $(rows two.sqlite) rows, want 96"

# Another process holds the write lock for 3 s: the sweep waits and loses nothing.
$py - lock.sqlite <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("CREATE TABLE IF NOT EXISTS other (x)")
c.execute("BEGIN IMMEDIATE"); c.execute("INSERT INTO other VALUES (1)")
open(sys.argv[1] + ".locked", "w").close()
time.sleep(3); c.execute("COMMIT")
PY
plock=$!
for _ in $(seq 100); do [ -e lock.sqlite.locked ] && break; sleep 0.05; done
expect 0 "(96 of 96 points)" "$cascade" sweep "$sweep" --db lock.sqlite --csv lock.csv --quiet
wait $plock
cmp -s lock.csv ref.csv || fail "held lock: CSV differs"

# The database fails in the middle of the run (here: a trigger that refuses point 60):
# exit 2 with the message, workers joined, the rows stored before it kept; the rerun
# computes only what is missing.
cp ref.sqlite mid.sqlite
$py -c "
import sqlite3; c = sqlite3.connect('mid.sqlite')
c.execute('delete from points'); c.execute(\"create trigger fail before insert on points when new.idx = 60 begin select raise(abort, 'disk I/O error (test)'); end\"); c.commit()"
expect 2 "disk I/O error (test)" "$cascade" sweep "$sweep" --db mid.sqlite --csv mid.csv --quiet -j 1
kept=$(rows mid.sqlite)
[ "$kept" -gt 0 ] || fail "mid-run failure: no row kept"
$py -c "import sqlite3; c = sqlite3.connect('mid.sqlite'); c.execute('drop trigger fail'); c.commit()"
expect 0 "computed $((96 - kept)) points (0 failed), $kept already in mid.sqlite" \
  "$cascade" sweep "$sweep" --db mid.sqlite --csv mid.csv --quiet
cmp -s mid.csv ref.csv || fail "mid-run failure: the completed CSV differs"

# Garbage bytes in a finished database: a message, no abort.
for offset in 20 4096 8192; do
  cp ref.sqlite g.sqlite
  printf '\xde\xad\xbe\xef\xde\xad\xbe\xefGARBAGE' | dd of=g.sqlite bs=1 seek=$offset conv=notrunc 2>/dev/null
  out="$("$cascade" sweep "$sweep" --db g.sqlite --csv g.csv --quiet 2>&1)"; code=$?
  if [ "$code" != 2 ] || ! grep -qE "not a sweep database|damaged|malformed" <<<"$out"; then
    fail "garbage at $offset: exit $code: $out"
  fi
  grep -qE "terminate called|Aborted" <<<"$out" && fail "garbage at $offset aborted"
done

# Empty files and --merge mistakes: clear errors, nothing created.
: > empty.sqlite
expect 2 "is an empty file (0 bytes)" "$cascade" sweep "$sweep" --db empty.sqlite --quiet
expect 2 "is the --db itself" "$cascade" sweep "$sweep" --db ref.sqlite --merge ref.sqlite --quiet
expect 2 "./ref.sqlite' is the --db itself" "$cascade" sweep "$sweep" --db ref.sqlite --merge ./ref.sqlite --quiet
expect 2 "no such file" "$cascade" sweep "$sweep" --db ref.sqlite --merge missing.sqlite --quiet
[ ! -e missing.sqlite ] || fail "--merge missing.sqlite created it"
echo "not a database at all, just text" > text.sqlite
expect 2 "is not a sweep database" "$cascade" sweep "$sweep" --db text.sqlite --quiet

echo "sweep database: $failures failures"
[ "$failures" -eq 0 ]
