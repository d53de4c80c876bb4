# shellcheck shell=bash
# Sourced by the benchmark wrappers (cipher.sh, pool.sh): bench_tool TARGET OVERRIDE
# prints the path of the benchmark binary TARGET, building it first in BUILD_DIR (default
# build; configured if needed) when it is missing or older than its sources (incremental:
# nothing to do when it is up to date), unless OVERRIDE (another binary's path) is set.
bench_tool() {
  local target=$1 override=${2:-}
  if [ -n "$override" ]; then
    echo "$override"
    return
  fi
  local root build
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  build=${BUILD_DIR:-$root/build}
  [ -f "$build/CMakeCache.txt" ] || cmake -S "$root" -B "$build" -DTUND_WERROR=ON >&2
  cmake --build "$build" --target "$target" -j2 >&2
  echo "$build/tests/$target"
}
