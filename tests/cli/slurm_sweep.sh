#!/usr/bin/env bash
# scripts/slurm-sweep.sh on a real one-node Slurm cluster that this test starts on localhost:
# its own munged (key, socket, pid and log under WORK_DIR, so a system munge is never used
# or disturbed), slurmctld and slurmd from a slurm.conf written here (free TCP ports, no
# accounting, no cgroups), then configs/sweeps/fusemax-array-size.yaml (12 points) as an
# array of 3 shards plus the dependent merge job. The merged CSV must equal a single-process
# run's byte for byte, each shard database must hold only its own points, the merge must
# recompute nothing. Every process the test started is stopped on exit, pass or fail.
#   slurm_sweep.sh CASCADE SOURCE_DIR WORK_DIR
# Exit 0: passed; 1: failed (the daemons' logs are printed); 77: skipped, with the reason
# (no Slurm or munge binaries, not root, or a daemon that cannot start on this machine).
# Needs Debian's slurm-wlm and munge (scripts/install-deps.sh). By hand: `ctest -R
# sweep_slurm` in a build folder, or this script with the three arguments.
set -u
cascade="$(realpath "$1")"; src="$(realpath "$2")"; work="$(realpath -m "$3")"
started=$(date +%s.%N)
elapsed() { awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f s", b - a }'; }
skip() { echo "SKIP: $*"; exit 77; }

for tool in munged slurmctld slurmd sbatch squeue sinfo scontrol scancel; do
  command -v "$tool" > /dev/null || skip "'$tool' not found (install slurm-wlm and munge: scripts/install-deps.sh)"
done
# slurmd must be root to start jobs as their user (setuid); CI runs as root.
[ "$(id -u)" = 0 ] || skip "slurmd needs root to launch jobs; run this test as root"
py=/usr/bin/python3
[ -x $py ] || skip "$py not found (it picks the free TCP ports)"

rm -rf "$work"; mkdir -p "$work"/{state,spool,elsewhere} || exit 1
chmod 755 "$work"   # munged wants every folder above its socket searchable by all
# A Unix socket path must fit in 108 bytes: a deep build folder gets a short one in /tmp.
run="$work/run"
if [ ${#run} -gt 80 ]; then run="$(mktemp -d /tmp/cascade-slurm.XXXXXX)"; else mkdir "$run"; fi
chmod 755 "$run"
socket="$run/munge.socket"
conf="$work/slurm.conf"
# Every process started here carries this variable: what is left of them at the end is found
# by it (slurmstepd and the jobs' processes included), whatever the pid files say.
marker="CASCADE_SLURM_TEST=$work"

pids_with_marker() {
  local p
  for p in /proc/[0-9]*; do
    [ "${p#/proc/}" = $$ ] && continue
    { tr "\0" "\n" < "$p/environ"; } 2>/dev/null | grep -qxF "$marker" && echo "${p#/proc/}"
  done
}
stop() {   # stop NAME: SIGTERM to the pid it was started with and to its pid file's, then
           # up to 10 s, then SIGKILL
  local pid
  for pid in $(eval echo "\${pid_$1:-}") $(cat "$work/$1.pid" 2>/dev/null); do
    kill -0 "$pid" 2>/dev/null || continue
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && { echo "$1 ($pid) ignored SIGTERM: SIGKILL"; kill -KILL "$pid"; }
  done
}
alive() { local pid; pid=$(eval echo "\${pid_$1:-}"); [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }
show_logs() {
  local d f
  for d in slurmctld slurmd munged; do   # the log file, or what the daemon printed
    f="$work/$d.log"; [ -s "$f" ] || f="$work/$d.out"
    [ -s "$f" ] && { echo "----- $f (last 40 lines)"; tail -n 40 "$f"; }
  done
  for f in "$work"/out\ dir/*.log; do
    [ -s "$f" ] && { echo "----- $f"; tail -n 40 "$f"; }
  done
}
cleanup() {
  local code=$? left
  trap - EXIT
  if alive slurmctld; then   # no job left, their processes gone
    SLURM_CONF="$conf" timeout 10 scancel --quiet --user="$(id -un)" 2>/dev/null
    for _ in $(seq 50); do
      [ -z "$(pids_with_marker | grep -vxF -e "${pid_munged:-}" -e "${pid_slurmctld:-}" \
                -e "${pid_slurmd:-}")" ] && break
      sleep 0.1
    done
  fi
  stop slurmd; stop slurmctld; stop munged
  left="$(pids_with_marker)"
  if [ -n "$left" ]; then
    echo "left running after the daemons stopped, killed:"; ps -o pid,args -p $left
    kill -KILL $left 2>/dev/null
  fi
  # slurmstepd daemonizes (init is its parent): let init reap those that ended (5 s at most).
  for _ in $(seq 50); do ps -eo stat=,comm= | grep -q '^Z.*slurmstepd' || break; sleep 0.1; done
  [ "$run" != "$work/run" ] && rm -rf "$run"
  [ "$code" = 1 ] && show_logs
  exit "$code"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# munge: a fresh key and a daemon of its own.
key="$run/munge.key"
if command -v mungekey > /dev/null; then
  mungekey --create --keyfile="$key" > /dev/null 2>&1 || skip "mungekey could not create $key"
else
  dd if=/dev/urandom of="$key" bs=1024 count=1 status=none
fi
chmod 400 "$key"
env "$marker" munged --foreground --socket="$socket" --key-file="$key" \
  --pid-file="$work/munged.pid" --log-file="$work/munged.log" --seed-file="$run/munged.seed" \
  > "$work/munged.out" 2>&1 &
pid_munged=$!
for _ in $(seq 50); do [ -S "$socket" ] && break; alive munged || break; sleep 0.1; done
[ -S "$socket" ] ||
  skip "munged did not start:$(echo; tail -n 5 "$work/munged.out" "$work/munged.log" 2>/dev/null)"
if command -v munge > /dev/null && ! munge -n --socket="$socket" | unmunge --socket="$socket" > /dev/null; then
  skip "munge credentials do not round-trip through $socket"
fi

# slurm.conf: this machine's CPUs and memory as slurmd sees them, two free ports.
host="$(hostname -s)"
node="$(slurmd -C 2>/dev/null | head -n 1)"
case "$node" in NodeName=*) ;; *) skip "slurmd -C did not describe this machine: $node" ;; esac
node="NodeName=$host ${node#NodeName=* }"
read -r ctld_port slurmd_port < <($py -c '
import socket
s = [socket.socket() for _ in range(2)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
cat > "$conf" <<EOF
# Written by tests/cli/slurm_sweep.sh: a one-node cluster on this machine, nothing shared.
ClusterName=cascade-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=$(id -un)
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
SchedulerParameters=batch_sched_delay=0
DependencyParameters=kill_invalid_depend
ReturnToService=2
MailProg=/bin/true
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

env "$marker" slurmctld -D -f "$conf" > "$work/slurmctld.out" 2>&1 &
pid_slurmctld=$!
env "$marker" slurmd -D -f "$conf" -N "$host" > "$work/slurmd.out" 2>&1 &
pid_slurmd=$!
export SLURM_CONF="$conf"
state=""
for _ in $(seq 150); do
  state="$(sinfo -h -N -n "$host" -o %T 2>/dev/null)"
  [ "$state" = idle ] && break
  for d in slurmctld slurmd; do
    alive $d || skip "$d exited while starting; its output and log end with:$(echo
      tail -n 8 "$work/$d.out" "$work/$d.log" 2>/dev/null)"
  done
  sleep 0.2
done
[ "$state" = idle ] || skip "node $host is '$state', not idle, after 30 s (slurmd log:)$(echo; tail -n 8 "$work/slurmd.log")"
echo "cluster up: node $host idle, slurmctld port $ctld_port, slurmd port $slurmd_port (after $(elapsed))"

# The single-process reference.
cd "$work" || exit 1
sweep="$src/configs/sweeps/fusemax-array-size.yaml"
"$cascade" sweep "$sweep" --db ref.sqlite --csv ref.csv --quiet > ref.log 2>&1 || {
  fail "single-process sweep"; cat ref.log; exit 1; }

# The script from another folder, with the sweep and the output folder given relative to it
# (and a space in the output folder's name).
cd "$work/elsewhere" || exit 1
rel_sweep="$(realpath --relative-to=. "$sweep")"
submitted="$(env "$marker" "$src/scripts/slurm-sweep.sh" "$rel_sweep" 3 "../out dir" "$cascade" 2>&1)" || {
  fail "slurm-sweep.sh: $submitted"; exit 1; }
echo "$submitted"
shards_id="$(sed -n 's/.*submitted shards \([0-9]*\) .*/\1/p' <<<"$submitted")"
merge_id="$(sed -n 's/.* and merge \([0-9]*\):.*/\1/p' <<<"$submitted")"
[ -n "$shards_id" ] && [ -n "$merge_id" ] || { fail "no job ids in: $submitted"; exit 1; }
cd "$work" || exit 1

# Wait for the merge job to end (120 s at most; at once if the node stops taking jobs, as
# when slurmd cannot launch them and drains it).
job_state() { scontrol -o show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p' | sort -u | tr '\n' ' '; }
merge_state=""
deadline=$((SECONDS + 120))
while [ $SECONDS -lt $deadline ]; do
  merge_state="$(job_state "$merge_id")"
  case "$merge_state" in
    "COMPLETED "|FAILED*|CANCELLED*|TIMEOUT*|NODE_FAIL*|OUT_OF_MEMORY*|BOOT_FAIL*|DEADLINE*) break ;;
  esac
  case "$(sinfo -h -N -n "$host" -o %T)" in
    drain*|down*|fail*)
      fail "node $host stopped taking jobs: $(scontrol -o show node "$host" | grep -oE '(State|Reason)=[^ ]*( [^=]*$)?' | tr '\n' ' ')"
      exit 1 ;;
  esac
  sleep 0.2
done
shard_states="$(job_state "$shards_id")"
[ "$shard_states" = "COMPLETED " ] || fail "shard array $shards_id: $shard_states"
[ "$merge_state" = "COMPLETED " ] || { fail "merge job $merge_id: ${merge_state:-never ended in 120 s}"; exit 1; }

out="$work/out dir"
name=fusemax-array-size
if cmp "$out/$name.csv" ref.csv; then echo "merged CSV = single-process CSV"; else fail "merged CSV differs from the single-process CSV"; fi
grep -q "computed 0 points (0 failed), 12 already in" "$out/merge.log" ||
  fail "the merge recomputed points: $(cat "$out/merge.log")"
count() {   # count DB SQL
  if command -v sqlite3 > /dev/null; then sqlite3 "$1" "$2"
  else $py -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])' "$1" "$2"; fi
}
for k in 0 1 2; do
  db="$out/shard-$k.sqlite"
  [ -f "$db" ] || { fail "no $db"; continue; }
  mine="$(count "$db" "select count(*) from points where idx % 3 = $k")"
  others="$(count "$db" "select count(*) from points where idx % 3 != $k")"
  [ "$mine" = 4 ] && [ "$others" = 0 ] || fail "shard $k database: $mine of its 4 points, $others of other shards"
  rows=$(($(wc -l < "$out/shard-$k.csv") - 1))
  [ "$rows" = 4 ] || fail "shard $k CSV: $rows rows, want 4"
done
[ "$(count "$out/$name.sqlite" "select count(*) from points")" = 12 ] || fail "merged database lacks points"

echo "$(elapsed) in all"
[ "$failures" = 0 ] || exit 1
echo "ok: 3 shards and the merge ran on Slurm; merged CSV byte-identical"
