#!/usr/bin/env bash
# Before/after in one run (a benchmark: it prints figures, it never fails on them): the
# crypto_cost tool (tests/bench/crypto_cost.cpp) built against this tree and against an
# older commit's crypto/util/proto sources, run alternately ROUNDS times.
#   usage: tests/bench/crypto_cost.sh [N=1000] [BASE=main] [ROUNDS=2]
#   CRYPTO_COST_BIN: this tree's tool (default build/tests/crypto_cost).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
N=${1:-1000}
BASE=${2:-main}
ROUNDS=${3:-2}
NEW=${CRYPTO_COST_BIN:-$ROOT/build/tests/crypto_cost}
[ -x "$NEW" ] || { echo "crypto_cost: build it first (cmake --build build --target crypto_cost)" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
git -C "$ROOT" archive "$BASE" include src/crypto src/util src/proto | tar -x -C "$TMP"
# The older tree's own sources, compiled directly: only what the tool links.
g++ -std=c++20 -O2 -I"$TMP/include" "$ROOT/tests/bench/crypto_cost.cpp" \
  "$TMP"/src/crypto/*.cpp "$TMP"/src/util/*.cpp "$TMP"/src/proto/*.cpp \
  $(pkg-config --cflags --libs libsodium) -o "$TMP/crypto_cost_base"
for round in $(seq "$ROUNDS"); do
  echo "== round $round: $BASE"
  "$TMP/crypto_cost_base" "$N"
  echo "== round $round: this tree"
  "$NEW" "$N"
done
