#!/usr/bin/env bash
# The whole test suite, as the README gives it and CI runs it (as root):
#   1. install dependencies and build, normally and with ASan + UBSan (tests/bootstrap.sh)
#   2. unit and end-to-end tests against the sanitizer build (a sanitizer report fails)
#   3. unit and end-to-end tests against the normal build, then the end-to-end tests
#      again with the TUN offloads off (--no-offload), the plain packet-at-a-time path
#   4. every libFuzzer target for FUZZ_SECONDS (default 30) from its seed corpus
# End-to-end tests need root and /dev/net/tun (skipped without, failing under CI=true).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)

echo "=== build"
BUILD_DIR=$ROOT/build "$ROOT/tests/bootstrap.sh"

echo "=== sanitizer build (ASan + UBSan)"
BUILD_DIR=$ROOT/build-asan CMAKE_ARGS="-DTUND_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug" \
  "$ROOT/tests/bootstrap.sh"

echo "=== all tests under ASan + UBSan"
(cd "$ROOT/build-asan" && ctest --output-on-failure)

echo "=== all tests: unit and end to end"
(cd "$ROOT/build" && ctest --output-on-failure)

echo "=== end-to-end tests with offloads off (--no-offload)"
(cd "$ROOT/build" && TUND_E2E_NO_OFFLOAD=1 ctest -L e2e --output-on-failure)

echo "=== fuzzing (${FUZZ_SECONDS:-30} s per target)"
"$ROOT/tests/fuzz/run.sh" "${FUZZ_SECONDS:-30}"
