#!/usr/bin/env bash
# Runs a sweep on Slurm as a job array of N shards plus a merge job that starts when every
# shard has finished (afterok): each array task computes `--shard K/N` into its own
# database, the merge job copies them into one and writes the CSV (nothing is recomputed).
#   scripts/slurm-sweep.sh SWEEP N OUT_DIR [CASCADE]
# SWEEP is a file (any relative path is made absolute here) or a name in configs/sweeps/;
# CASCADE defaults to build/sim/cascade of this checkout, wherever this is called from.
# OUT_DIR (created) and CASCADE must be on a file system every node sees. sbatch's own
# SBATCH_* variables pick the partition, time limit and so on (SBATCH_PARTITION=...).
# Prints the two job ids; $OUT_DIR/<sweep name>.csv appears when the merge job ends.
# Resubmitting after a failed task recomputes only what its database lacks.
# Tested for real by tests/cli/slurm_sweep.sh (`ctest -R sweep_slurm`, part of `make test`;
# skipped, exit 77, without slurm-wlm/munge or root): it starts a one-node cluster on
# localhost (its own munged, slurmctld and slurmd), runs this script on a 12-point sweep in
# 3 shards from another folder with relative paths, and checks the merged CSV against a
# single-process run byte for byte and each shard's database. Multi-node use (a shared file
# system) is not tested.
set -euo pipefail
if [ $# -lt 3 ] || [ $# -gt 4 ]; then
  echo "usage: $0 SWEEP N OUT_DIR [CASCADE]" >&2; exit 2
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
sweep="$1"; n="$2"; out="$(realpath -m "$3")"; cascade="${4:-$root/build/sim/cascade}"
[[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "$0: N must be a positive integer, got '$n'" >&2; exit 2; }
[ -x "$cascade" ] && [ -f "$cascade" ] ||
  { echo "$0: no cascade executable at '$cascade' (build it, or give CASCADE)" >&2; exit 2; }
cascade="$(realpath "$cascade")"
# A file is named by its absolute path: the jobs need not run where this script was called.
if [ -f "$sweep" ]; then sweep="$(realpath "$sweep")"; fi
command -v sbatch > /dev/null || { echo "$0: sbatch not found (no Slurm here)" >&2; exit 2; }
mkdir -p "$out"
name="$(basename "$sweep" .yaml)"
q() { local s="${1//\'/\'\\\'\'}"; printf "'%s'" "$s"; }   # quoted for the job's /bin/sh
job_id() { local id; id="$(cat)"; echo "${id%%;*}"; }   # --parsable prints ID or ID;CLUSTER
array_id=$(sbatch --parsable --job-name="sweep-$name" --array="0-$((n - 1))" \
  --output="$out/shard-%a.log" --wrap \
  "$(q "$cascade") sweep $(q "$sweep") --shard \$SLURM_ARRAY_TASK_ID/\$SLURM_ARRAY_TASK_COUNT --db $(q "$out")/shard-\$SLURM_ARRAY_TASK_ID.sqlite --csv $(q "$out")/shard-\$SLURM_ARRAY_TASK_ID.csv --quiet -j \${SLURM_CPUS_PER_TASK:-1}" |
  job_id)
shards=""
for ((k = 0; k < n; ++k)); do shards+=" $(q "$out/shard-$k.sqlite")"; done
merge_id=$(sbatch --parsable --job-name="merge-$name" --dependency="afterok:$array_id" \
  --output="$out/merge.log" --wrap \
  "$(q "$cascade") sweep $(q "$sweep") --db $(q "$out/$name.sqlite") --csv $(q "$out/$name.csv") --merge$shards --quiet" |
  job_id)
echo "submitted shards $array_id (array of $n) and merge $merge_id: $out/$name.csv when done"
