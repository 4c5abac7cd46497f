#!/usr/bin/env bash
# Builds the CUDA kernels (libinfra4j_cuda.so) with CMake and nvcc, for the Maven build of native-src.
#   usage: build-native.sh BUILD_DIR RESOURCE_DIR
# The library lands in RESOURCE_DIR (packed into the jar as native/linux-x86_64/) with a properties
# file naming its SHA-256, which the runtime uses to extract it once per version. Without nvcc (or
# with INFRA4J_SKIP_CUDA=1) it says that the kernels were skipped and succeeds: the CPU path works.
set -euo pipefail
build_dir=$1
resource_dir=$2
here=$(cd "$(dirname "$0")" && pwd)

find_nvcc() {
  if [ -n "${INFRA4J_NVCC:-}" ]; then echo "$INFRA4J_NVCC"; return; fi
  if command -v nvcc >/dev/null 2>&1; then command -v nvcc; return; fi
  for c in "${CUDA_HOME:-}" "${CUDA_PATH:-}" /usr/local/cuda; do
    if [ -n "$c" ] && [ -x "$c/bin/nvcc" ]; then echo "$c/bin/nvcc"; return; fi
  done
}

skip() {
  echo "[infra4j] CUDA kernels skipped: $1. The jar carries no libinfra4j_cuda.so; everything runs on the CPU path."
  mkdir -p "$resource_dir"
  rm -f "$resource_dir/libinfra4j_cuda.so" "$resource_dir/infra4j-native.properties"
  exit 0
}

[ "${INFRA4J_SKIP_CUDA:-0}" = 1 ] && skip "INFRA4J_SKIP_CUDA=1"
nvcc=$(find_nvcc || true)
[ -n "$nvcc" ] || skip "nvcc not found (looked at \$INFRA4J_NVCC, PATH, \$CUDA_HOME/bin, \$CUDA_PATH/bin, /usr/local/cuda/bin)"
command -v cmake >/dev/null 2>&1 || skip "cmake not found on PATH"

echo "[infra4j] building CUDA kernels with $nvcc ($("$nvcc" --version | tail -n 2 | head -n 1))"
mkdir -p "$build_dir"
cmake -S "$here" -B "$build_dir" -DCMAKE_CUDA_COMPILER="$nvcc" -DCMAKE_BUILD_TYPE=Release >"$build_dir/configure.log" 2>&1 \
  || { cat "$build_dir/configure.log"; echo "[infra4j] CMake configure failed (log above)"; exit 1; }
cmake --build "$build_dir" --parallel "$(nproc 2>/dev/null || echo 2)"

mkdir -p "$resource_dir"
cp "$build_dir/libinfra4j_cuda.so" "$resource_dir/libinfra4j_cuda.so"
{
  echo "# Written by native-src/build-native.sh"
  echo "library=libinfra4j_cuda.so"
  echo "sha256=$(sha256sum "$resource_dir/libinfra4j_cuda.so" | cut -d' ' -f1)"
  echo "nvcc=$("$nvcc" --version | grep -o 'release [0-9.]*' | head -n 1)"
  echo "gencode=compute_90a,sm_90a"
} >"$resource_dir/infra4j-native.properties"
echo "[infra4j] CUDA kernels built: $resource_dir/libinfra4j_cuda.so"
