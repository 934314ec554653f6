#!/usr/bin/env bash
# `mpirun -n N cascade sweep` against a single-process run of the same sweep: the CSV byte
# for byte and every database row equal; a worker that dies mid-run loses only its points
# in flight, and a rerun completes the database to the single-process rows.
#   sweep_mpi.sh CASCADE SOURCE_DIR WORK_DIR MPIRUN
set -u
cascade="$1"; src="$2"; work="$3"; mpirun="$4"
rm -rf "$work"; mkdir -p "$work"; cd "$work" || exit 1
py=/usr/bin/python3
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# OpenMPI refuses root and more ranks than cores unless told; set here, not globally. The
# single-copy (CMA) mechanism needs ptrace rights a container may not grant.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
mpi() { "$mpirun" --oversubscribe -n "$@"; }
rows() { $py -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('select count(*) from points').fetchone()[0])" "$1"; }
# Every column of every row, in key order (what a single process stores is the reference).
dump() { $py -c "import sqlite3,sys; [print(r) for r in sqlite3.connect(sys.argv[1]).execute('select * from points order by key')]" "$1"; }
sweep="$src/configs/sweeps/fusemax-design-space.yaml"   # 96 points, arch.* axes

"$cascade" sweep "$sweep" --db single.sqlite --csv single.csv --quiet -j 1 > single.log 2>&1 ||
  { fail "single-process run"; cat single.log; }

for n in 2 3; do
  mpi "$n" "$cascade" sweep "$sweep" --db mpi$n.sqlite --csv mpi$n.csv --quiet > mpi$n.log 2>&1 ||
    { fail "mpirun -n $n: exit $?"; cat mpi$n.log; }
  grep -qF "$n MPI ranks" mpi$n.log || { fail "mpirun -n $n: not run as $n ranks"; cat mpi$n.log; }
  cmp -s single.csv mpi$n.csv || fail "mpirun -n $n: the CSV differs from the single-process CSV"
  [ "$(dump single.sqlite)" = "$(dump mpi$n.sqlite)" ] || fail "mpirun -n $n: database rows differ"
done

# A rerun under MPI finds every point in the database and computes none.
mpi 2 "$cascade" sweep "$sweep" --db mpi2.sqlite --csv again.csv --quiet > again.log 2>&1 ||
  { fail "rerun: exit $?"; cat again.log; }
grep -qF "computed 0 points (0 failed), 96 already in" again.log || { fail "rerun recomputed"; cat again.log; }

# The workers exit without a word after 10 points each: the job fails, the database keeps
# what rank 0 received (fewer than 96 rows), and a rerun computes the rest.
if CASCADE_SWEEP_MPI_TEST_DIE_AFTER=10 mpi 3 "$cascade" sweep "$sweep" --db dead.sqlite \
     --csv dead.csv --quiet > dead.log 2>&1; then
  fail "a dying worker: mpirun exited 0"; cat dead.log
fi
kept=$(rows dead.sqlite 2>/dev/null || echo 0)
[ "$kept" -lt 96 ] || fail "a dying worker: $kept rows, want fewer than 96"
mpi 2 "$cascade" sweep "$sweep" --db dead.sqlite --csv dead.csv --quiet > rerun.log 2>&1 ||
  { fail "rerun after a dead worker: exit $?"; cat rerun.log; }
grep -qF "computed $((96 - kept)) points" rerun.log || { fail "rerun after a dead worker: not $((96 - kept)) computed"; cat rerun.log; }
cmp -s single.csv dead.csv || fail "rerun after a dead worker: the CSV differs from the single-process CSV"

# An error in the sweep file on rank 0 stops the workers too (no hang): exit 2 with the message.
printf 'name: bad\nbase: {arch: fusemax, workload: bert-base, nope: 1}\naxes: []\n' > bad.yaml
out=$(timeout 60 "$mpirun" --oversubscribe -n 2 "$cascade" sweep bad.yaml --db bad.sqlite 2>&1); code=$?
[ "$code" != 0 ] && [ "$code" != 124 ] || fail "bad sweep file under MPI: exit $code"
grep -qE "bad.yaml:2:[0-9]+: error: unknown setting 'nope'" <<<"$out" || { fail "bad sweep file: no message"; echo "$out"; }

[ "$failures" = 0 ] && echo "sweep_mpi: all checks passed"
exit $((failures > 0))
