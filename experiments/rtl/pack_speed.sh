#!/usr/bin/env bash
# Packs rtl_tile_speed binaries of several builds (each configured with its own
# -DCASCADE_RTL_THREADS) into one folder with the shared libraries they load and this
# machine's dynamic loader, so experiments/rtl/threads_speed.sh runs them on a machine
# without this project's Debian packages.
# (One build folder reconfigured per thread count works too: pack after each build.)
# For a machine reached through a size-limited copy: tar cJf speed.tar.xz OUT_DIR (10 MB
# for five binaries).
# Usage: experiments/rtl/pack_speed.sh OUT_DIR BUILD_DIR...
set -euo pipefail
out=$1
shift
mkdir -p "$out/lib"
for build in "$@"; do
  t=$(sed -n 's/^CASCADE_RTL_THREADS:STRING=//p' "$build/CMakeCache.txt")
  cp "$build/experiments/rtl/rtl_tile_speed" "$out/rtl_tile_speed_t$t"
  strip "$out/rtl_tile_speed_t$t"  # the symbols would double the copy
  ldd "$build/experiments/rtl/rtl_tile_speed" | awk '/=> \// { print $3 } /^\t\/.*ld-linux/ { print $1 }' |
    while read -r lib; do cp -L "$lib" "$out/lib/"; done
done
ls "$out" "$out/lib"
