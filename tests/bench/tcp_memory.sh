#!/usr/bin/env bash
# Server RSS per TCP connection (pending, adopted and active, adopted and idle), measured by
# build/tests/tcp_conn_memory (tests/bench/tcp_conn_memory.cpp). Not a test: it prints
# figures. With TUND_BASELINE_TOOL (the same tool built from an older tree, e.g.
#   git archive OLD | tar -x -C /tmp/old; cp tests/bench/tcp_conn_memory.cpp \
#     /tmp/old/tests/bench/; cp tests/CMakeLists.txt /tmp/old/tests/;
#   cmake -S /tmp/old -B /tmp/old/build && cmake --build /tmp/old/build --target tcp_conn_memory)
# both are run in the same invocation, before/after.
#   usage: tests/bench/tcp_memory.sh [CONNECTIONS=1000]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
N=${1:-1000}
TOOL=${TCP_MEMORY_TOOL:-$ROOT/build/tests/tcp_conn_memory}
[ -x "$TOOL" ] || { echo "tcp_memory: build the tcp_conn_memory target first" >&2; exit 1; }
if [ -n "${TUND_BASELINE_TOOL:-}" ]; then
  echo "== baseline ($TUND_BASELINE_TOOL)"
  "$TUND_BASELINE_TOOL" "$N"
fi
echo "== this tree ($TOOL)"
"$TOOL" "$N"
