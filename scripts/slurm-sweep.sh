#!/usr/bin/env bash
# Runs a sweep on Slurm as a job array of N shards plus a merge job that starts when every
# shard has finished (afterok): each array task computes `--shard K/N` into its own
# database, the merge job copies them into one and writes the CSV (nothing is recomputed).
#   scripts/slurm-sweep.sh SWEEP N OUT_DIR [CASCADE]      (CASCADE default: build/sim/cascade)
# Resubmitting after a failed task recomputes only what its database lacks.
# Not run in CI (no Slurm cluster there); by hand on a one-node cluster: install slurm-wlm
# and munge, start munged, slurmctld and slurmd with a slurm.conf naming localhost, then
# run this and `squeue` / `sacct` until the merge job ends.
set -euo pipefail
sweep="$1"; n="$2"; out="$(realpath -m "$3")"; cascade="$(realpath "${4:-build/sim/cascade}")"
mkdir -p "$out"
name="$(basename "$sweep" .yaml)"
array_id=$(sbatch --parsable --job-name="sweep-$name" --array="0-$((n - 1))" \
  --output="$out/shard-%a.log" --wrap \
  "'$cascade' sweep '$sweep' --shard \$SLURM_ARRAY_TASK_ID/\$SLURM_ARRAY_TASK_COUNT --db '$out/shard-'\$SLURM_ARRAY_TASK_ID'.sqlite' --csv '$out/shard-'\$SLURM_ARRAY_TASK_ID'.csv' --quiet -j \${SLURM_CPUS_PER_TASK:-1}")
shards=""
for ((k = 0; k < n; ++k)); do shards+=" '$out/shard-$k.sqlite'"; done
merge_id=$(sbatch --parsable --job-name="merge-$name" --dependency="afterok:$array_id" \
  --output="$out/merge.log" --wrap \
  "'$cascade' sweep '$sweep' --db '$out/$name.sqlite' --csv '$out/$name.csv' --merge$shards --quiet")
echo "submitted shards $array_id (array of $n) and merge $merge_id: $out/$name.csv when done"
