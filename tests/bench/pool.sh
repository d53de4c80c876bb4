#!/usr/bin/env bash
# How the cipher work of a batch scales over --threads when CPUs are free: batches of 64
# frames sealed through util::WorkerPool with 1..MAX threads (a benchmark: it prints a
# table, it never fails on figures; wall time, so run it on an otherwise idle machine).
# Builds the tool first when it is missing or older than its sources (cmake --build, 2 jobs).
#   usage: tests/bench/pool.sh [--machine] [MAX_THREADS=CPUs] [FRAME_SIZE=1400]
#   BUILD_DIR: the build tree (default build); POOL_BENCH_BIN: another binary instead.
set -euo pipefail
# shellcheck source=tests/bench/build_tool.sh
. "$(dirname "$0")/build_tool.sh"
BIN=$(bench_tool pool_bench "${POOL_BENCH_BIN:-}")
exec "$BIN" "$@"
