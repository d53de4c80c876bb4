#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for SECONDS
# (default 30) from its seed corpus in tests/fuzz/corpus/<target>/. Fails on any crash,
# leak, timeout or sanitizer report; the reproducer is left in build-fuzz/artifacts/.
#   tests/fuzz/run.sh [SECONDS] [TARGET...]     e.g. tests/fuzz/run.sh 600 fuzz_secure_session
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SECONDS_EACH=${1:-30}
shift || true
BUILD=$ROOT/build-fuzz
CC=clang CXX=clang++ cmake -S "$ROOT" -B "$BUILD" -DTUND_FUZZ=ON -DTUND_BUILD_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j"$(nproc)" >/dev/null
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_frame_decoder fuzz_udp_message fuzz_secure_session
                                      fuzz_link_responder fuzz_config_file fuzz_peer_file fuzz_keys
                                      fuzz_offload fuzz_link_events fuzz_control)
mkdir -p "$BUILD/artifacts"
status=0
passed=0
failed=0
for t in "${targets[@]}"; do
  work=$(mktemp -d)  # new inputs go here; the committed seeds stay untouched
  seeds="$ROOT/tests/fuzz/corpus/$t"
  [ -d "$seeds" ] || seeds=""
  echo "== $t for ${SECONDS_EACH}s"
  if "$BUILD/tests/fuzz/$t" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
       -print_final_stats=1 -artifact_prefix="$BUILD/artifacts/$t-" "$work" $seeds \
       >"$BUILD/artifacts/$t.log" 2>&1; then
    grep -E "stat::number_of_executed_units|cov:" "$BUILD/artifacts/$t.log" | tail -n 2 | sed 's/^/   /'
    echo "PASS: $t"
    passed=$((passed + 1))
  else
    tail -n 30 "$BUILD/artifacts/$t.log"
    echo "FAIL: $t (reproducer in $BUILD/artifacts/)"
    failed=$((failed + 1))
    status=1
  fi
  rm -rf "$work"
done
echo "fuzz: $passed passed, $failed failed"
exit $status
