#!/usr/bin/env bash
# The per-core seal and open cost of every cipher tund can negotiate, at the tunnel's frame
# size (a benchmark: it prints a table, it never fails on figures). Builds the tool first
# when it is missing or older than its sources (cmake --build, 2 jobs).
#   usage: tests/bench/cipher.sh [--machine] [FRAME_SIZE=1400]
#   BUILD_DIR: the build tree (default build); CIPHER_BENCH_BIN: another binary instead.
set -euo pipefail
# shellcheck source=tests/bench/build_tool.sh
. "$(dirname "$0")/build_tool.sh"
BIN=$(bench_tool cipher_bench "${CIPHER_BENCH_BIN:-}")
exec "$BIN" "$@"
