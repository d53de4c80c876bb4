#!/usr/bin/env bash
# The per-core seal and open cost of every cipher tund can negotiate, at the tunnel's frame
# size (a benchmark: it prints a table, it never fails on figures). Builds the tool first
# when it is missing or older than its sources (cmake --build, 2 jobs).
#   usage: tests/bench/cipher.sh [--machine] [FRAME_SIZE=1400]
#   BUILD_DIR: the build tree (default build); CIPHER_BENCH_BIN: another binary instead.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
BIN=${CIPHER_BENCH_BIN:-}
if [ -z "$BIN" ]; then
  [ -f "$BUILD_DIR/CMakeCache.txt" ] || cmake -S "$ROOT" -B "$BUILD_DIR" -DTUND_WERROR=ON >&2
  # Incremental: nothing to do when it is up to date.
  cmake --build "$BUILD_DIR" --target cipher_bench -j2 >&2
  BIN=$BUILD_DIR/tests/cipher_bench
fi
exec "$BIN" "$@"
