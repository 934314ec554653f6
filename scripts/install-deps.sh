#!/usr/bin/env bash
# Installs cascade's build and test dependencies from Debian's package registry.
# Idempotent: does nothing (and needs no network) when every package is present.
set -euo pipefail

packages=(
  cmake g++ make pkg-config
  libsystemc-dev verilator yosys
  libyaml-cpp-dev libboost-program-options-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libfmt-dev libsqlite3-dev libzip-dev
  python3 python3-numpy python3-yaml python3-matplotlib
  clang-15 libfuzzer-15-dev llvm-15
  pybind11-dev python3-dev python3-pytest python3-torch
  libboost-mpi-dev openmpi-bin libopenmpi-dev
  slurm-wlm munge
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "cascade: installing missing Debian packages: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
