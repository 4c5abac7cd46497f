#!/usr/bin/env bash
# Builds libinfra4j_usrbio.so (3FS's USRBIO API over io_uring, src/main/c/usrbio/) for the Maven build of
# native-src, with liburing linked statically so that the library needs only the kernel's io_uring.
#   usage: build-usrbio.sh BUILD_DIR RESOURCE_DIR
# The library lands in RESOURCE_DIR (packed into the jar as native/linux-x86_64/) beside
# libinfra4j_usrbio.so.properties naming its SHA-256. Without a C compiler or liburing's headers (Debian:
# liburing-dev) it says so and succeeds: the threefs module then reports the embedded backend missing.
set -euo pipefail
build_dir=$1
resource_dir=$2
here=$(cd "$(dirname "$0")" && pwd)
cc=${CC:-gcc}
lib=libinfra4j_usrbio.so

skip() {
  echo "[infra4j] USRBIO library skipped: $1. The jar carries no $lib."
  mkdir -p "$resource_dir"
  rm -f "$resource_dir/$lib" "$resource_dir/$lib.properties"
  exit 0
}

command -v "$cc" >/dev/null 2>&1 || skip "no C compiler ($cc)"
echo '#include <liburing.h>' | "$cc" -E -x c - >/dev/null 2>&1 || skip "no liburing.h (Debian: apt-get install liburing-dev)"

mkdir -p "$build_dir" "$resource_dir"
"$cc" -std=gnu11 -O2 -Wall -Wextra -Werror -fPIC -fvisibility=hidden -shared -I"$here/include" \
  "$here/src/main/c/usrbio/usrbio.c" -o "$build_dir/$lib" \
  -Wl,--no-undefined -Wl,--exclude-libs,ALL -Wl,-Bstatic -luring -Wl,-Bdynamic -lpthread
cp "$build_dir/$lib" "$resource_dir/$lib"
{
  echo "# Written by native-src/build-usrbio.sh"
  echo "library=$lib"
  echo "sha256=$(sha256sum "$resource_dir/$lib" | cut -d' ' -f1)"
  echo "compiler=$("$cc" --version | head -n 1)"
} >"$resource_dir/$lib.properties"
echo "[infra4j] USRBIO library built: $resource_dir/$lib"
