# Sourced by the tile probes (split_var_probe.sh, arith_probe.sh, opt_probe.sh, rf_probe.sh,
# pe_loop_probe.sh, peer_probe.sh): builds tile_probe.cpp on a Verilated tile_2d as the
# CMake build compiles Verilated models (200,000-statement files, the per-cycle code at
# OPT, the initialisation at -O0).
#   [PROBE_ARGS="..."] [PROBE_CXXFLAGS="..."] [PROBE_GEN=DIR] probe_build SRC_DIR N OPT OUT
#   [PROBE_TOP=m PROBE_FILES="a.sv ..." PROBE_MAIN=driver.cpp] probe_build ...   (another
#   top module, e.g. peer_probe.sh's integer MAC tile, with its own driver)
# SRC_DIR holds the .sv files (of this revision or an earlier one: the packages and the PE
# loop are taken where present); OUT is the executable; PROBE_ARGS are more Verilator
# arguments (e.g. +define+CASCADE_PE_MODULE=pe_2d for the tile of PE instances),
# PROBE_CXXFLAGS more compiler flags (e.g. -g -DREPS=20); PROBE_GEN keeps the generated C++.
# Prints the executable's machine code size. Sourcing it sets hdl (the sources) and work (a
# temporary folder, removed on exit).
hdl=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../hdl" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
probe_build() {
  local src=$1 n=$2 opt=$3 out=$4
  local inc=/usr/share/verilator/include probe_dir
  probe_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  local dir
  dir=$(mktemp -d -p "$work")  # removed with $work if a step fails
  mkdir -p "$dir/obj"
  local files=${PROBE_FILES:-} f top=${PROBE_TOP:-tile_2d}
  local main=${PROBE_MAIN:-$probe_dir/tile_probe.cpp}
  if [[ -z $files ]]; then
    for f in fp32_pkg tile_pkg fp32_exp_pkg pe_2d_pkg fp32_mul fp32_add fp32_exp_seq delay_line \
             pe_2d pe_array_2d tile_2d; do
      [[ -e $src/$f.sv ]] && files+=" $f.sv"
    done
  fi
  # shellcheck disable=SC2086
  (cd "$src" && verilator --cc -Wno-fatal -GN="$n" ${PROBE_ARGS:-} $files --top-module "$top" \
    --Mdir "$dir/gen" --output-split 200000 --output-split-cfuncs 200000)
  ls "$dir"/gen/*.cpp | OPT=$opt PROBE_CXXFLAGS="${PROBE_CXXFLAGS:-}" DIR=$dir INC=$inc xargs -P "$(nproc)" -I{} sh -c 'f={}
    b=$(basename "$f" .cpp); case $b in *Slow*) o=-O0;; *) o=$OPT;; esac
    g++ -std=c++17 $o ${PROBE_CXXFLAGS:-} -I "$DIR/gen" -I "$INC" -I "$INC/vltstd" -c "$f" -o "$DIR/obj/$b.o"'
  local runtime="verilated verilated_threads"
  [[ ${PROBE_ARGS:-} == *--prof-exec* ]] && runtime+=" verilated_profiler"
  for f in $runtime; do
    g++ -std=c++17 -O1 -I $inc -I $inc/vltstd -c $inc/$f.cpp -o "$dir/obj/$f.o"
  done
  g++ -std=c++17 -O1 ${PROBE_CXXFLAGS:-} -DPROBE_N="$n" -I "$dir/gen" -I $inc -I $inc/vltstd -c "$main" \
    -o "$dir/obj/main.o"
  g++ "$dir"/obj/*.o -o "$out" -pthread
  if [[ -n ${PROBE_GEN:-} ]]; then rm -rf "$PROBE_GEN"; cp -r "$dir/gen" "$PROBE_GEN"; fi
  rm -rf "$dir"
  echo "$(basename "$out"): $(size -A "$out" | awk '$1 == ".text" { printf "%.2f MB of machine code", $2 / 1e6 }')"
}
