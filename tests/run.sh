#!/usr/bin/env bash
# The whole test suite, as the README gives it and CI runs it (as root):
#   1. install dependencies and build (tests/bootstrap.sh)
#   2. unit tests and end-to-end tests (ctest; e2e needs root and /dev/net/tun)
#   3. the unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)

echo "=== build"
BUILD_DIR=$ROOT/build "$ROOT/tests/bootstrap.sh"

echo "=== sanitizer build (ASan + UBSan)"
BUILD_DIR=$ROOT/build-asan CMAKE_ARGS="-DTUND_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug" \
  "$ROOT/tests/bootstrap.sh"

echo "=== unit tests under ASan + UBSan"
(cd "$ROOT/build-asan" && ctest -L unit --output-on-failure)

echo "=== all tests: unit and end to end"
(cd "$ROOT/build" && ctest --output-on-failure)
