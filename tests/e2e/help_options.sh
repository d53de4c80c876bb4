# Shared by test_man_page.sh and test_completion.sh: what the real binary's `tund --help`
# says, so the man pages and the completion are checked against what ships, not against
# a list kept in a test. Needs neither root nor namespaces (unlike lib.sh).
set -euo pipefail

TUND_BIN=${TUND_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/tund}
# The build directory (ctest sets it; by hand it is the binary's directory).
TUND_BUILD_DIR=${TUND_BUILD_DIR:-$(dirname "$TUND_BIN")}
SOURCE_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

skip_or_fail() {
  if [ "${CI:-}" = "true" ]; then
    echo "FAIL: $1 (this test must run under CI=true)"
    exit 1
  fi
  echo "SKIP: $1"
  exit 77
}
fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "PASS: $*"; }

[ -x "$TUND_BIN" ] || skip_or_fail "tund binary not built at $TUND_BIN"
HELP=$("$TUND_BIN" --help) || fail "tund --help exited with status $?"

# help_options: one line per option of `tund --help`: its names, then "value" or "flag".
#   -i --iface value
#   -s --server flag
# An option line starts with its names (-i,--iface); a value-taking option's names are
# followed by one space and its type name in capitals (IFNAME, PORT:INT..., KEY|FILE); a
# flag's by nothing, by CLI11's " Excludes: ...", or by the padding (two or more spaces)
# before its description, which may start with capitals too ("TUN: ...").
help_options() {
  printf '%s\n' "$HELP" | awk '
    /^[ \t]+-/ {
      line = $0
      sub(/^[ \t]+/, "", line)
      if (!match(line, /^-[-A-Za-z0-9]+(, *-[-A-Za-z0-9]+)*/)) next
      names = substr(line, 1, RLENGTH)
      rest = substr(line, RLENGTH + 1)
      gsub(/, */, " ", names)
      kind = (rest ~ /^ [A-Z][A-Z0-9_|]*(:|[ \t]|$)/) ? "value" : "flag"
      print names, kind
    }'
}

# help_names: every option name (-i, --iface, ...), one a line.
help_names() { help_options | awk '{ for (i = 1; i < NF; i++) print $i }'; }

# help_commands: the key commands the help shows as a line `tund WORD ...` (examples,
# usage lines; `tund A|B` counts both), not `tund` in a sentence.
help_commands() {
  printf '%s\n' "$HELP" |
    sed -nE 's/^[[:space:]]*([Uu]sage:|or:)?[[:space:]]*tund ([a-z][a-z0-9|-]*).*/\2/p' |
    tr '|' '\n' | sort -u
}

OPTION_COUNT=$(help_options | wc -l)
[ "$OPTION_COUNT" -ge 10 ] || fail "found only $OPTION_COUNT options in tund --help: $HELP"
