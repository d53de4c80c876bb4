#!/usr/bin/env bash
# The man pages document what the binary has: every option of `tund --help` is defined in
# tund(8)'s OPTIONS (with its short and long name on one line), every key command, every
# signal tund handles and every environment variable it reads or sets for hooks (from the
# sources) has its entry, and every key the config file accepts is in tund.conf(5). All of
# it is checked on the roff pages the build generates (what is installed), which must also
# format without groff warnings (lintian's check) and install gzip-compressed.
# Needs no root; without scdoc the pages are not built: skipped, or a failure under CI=true.
source "$(dirname "$0")/help_options.sh"

PAGE8=$TUND_BUILD_DIR/docs/tund.8
PAGE5=$TUND_BUILD_DIR/docs/tund.conf.5
for page in "$PAGE8" "$PAGE5"; do
  [ -f "$page" ] || skip_or_fail "$page not built (apt-get install scdoc, run cmake again)"
done
command -v man >/dev/null || skip_or_fail "needs man (apt-get install man-db)"
WORK=$(mktemp -d /tmp/tund-man.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# section_roff PAGE SECTION: one .SH section of a page, without the roff font escapes.
section_roff() {
  awk -v want="$2" '
    { gsub(/\\f[BIRP]/, ""); gsub(/\\&/, ""); gsub(/\\-/, "-") }
    /^\.SH / { sub(/^\.SH "?/, ""); sub(/"$/, ""); section = $0; next }
    section == want' "$1"
}
section_text() { section_roff "$@" | grep -v '^\.'; }

# terms PAGE SECTION: the entry headings of a section: the line before each indented
# block, as scdoc writes an entry "*term*<newline><tab>text".
terms() { section_roff "$@" | awk '/^\.RS 4$/ && prev !~ /^\./ { print prev } { prev = $0 }'; }

# has_term PAGE SECTION NAME...: some heading of SECTION holds every NAME as a word.
has_term() {
  local page=$1 section=$2
  shift 2
  terms "$page" "$section" | awk -v names="$*" '
    { n = split($0, words, /[ ,|=<>]+/); for (i = 1; i <= n; i++) seen[words[i]] = 1
      ok = 1; m = split(names, want, " "); for (i = 1; i <= m; i++) if (!seen[want[i]]) ok = 0
      delete seen; if (ok) found = 1 }
    END { exit !found }'
}

echo "== every option of tund --help has its entry in tund(8) OPTIONS"
while read -r -a option; do
  unset 'option[${#option[@]}-1]'  # the value/flag column
  has_term "$PAGE8" OPTIONS "${option[@]}" ||
    fail "tund(8) OPTIONS has no entry for ${option[*]} (docs/man/tund.8.scd)"
done < <(help_options)

echo "== every option tund(8) defines exists (no stale entries)"
for name in $(terms "$PAGE8" OPTIONS | grep -oE '(^|[ ,|])-[-A-Za-z0-9]+' | tr -d ' ,|'); do
  grep -qxF -- "$name" <<<"$(help_names)" || fail "tund(8) documents $name, which tund --help lacks"
done

echo "== the sections a daemon's page needs"
for section in NAME SYNOPSIS DESCRIPTION OPTIONS COMMANDS SIGNALS "EXIT STATUS" FILES \
    ENVIRONMENT EXAMPLES "SEE ALSO"; do
  grep -qxE "\.SH \"?$section\"?" "$PAGE8" || fail "tund(8) has no $section section"
done
for status in 0 1 2; do has_term "$PAGE8" "EXIT STATUS" "$status" || fail "exit status $status"; done

echo "== key commands: in the help, the page and the binary alike"
[ -n "$(help_commands)" ] || fail "tund --help shows no key command"
for command in $(help_commands); do
  has_term "$PAGE8" COMMANDS "$command" || fail "tund(8) COMMANDS lacks $command"
done
PRIVATE=$("$TUND_BIN" genkey) || fail "tund genkey failed"
for command in $(terms "$PAGE8" COMMANDS | awk '{ print $1 }'); do
  args=()  # the control commands need a running tund: their --help must work
  case $command in show | reload | disconnect) args=(--help) ;; esac
  if ! out=$("$TUND_BIN" "$command" "${args[@]}" <<<"$PRIVATE") || [ -z "$out" ]; then
    fail "tund(8) documents the command '$command', which the binary does not run"
  fi
  grep -qE "tund $command" <<<"$(section_text "$PAGE8" SYNOPSIS)" || fail "the SYNOPSIS lacks tund $command"
done

echo "== signals and environment variables the sources use"
for sig in $(grep -ohE '\bSIG[A-Z0-9]+\b' "$SOURCE_DIR"/src/daemon/signals.cpp | sort -u); do
  has_term "$PAGE8" SIGNALS "$sig" || fail "tund(8) SIGNALS lacks $sig"
done
variables=$( (grep -rohE 'getenv\("[A-Z_]+"\)' "$SOURCE_DIR"/src | grep -oE '[A-Z_]{3,}'
  grep -ohE '"TUND_[A-Z_]+=' "$SOURCE_DIR"/src/daemon/hooks.cpp | grep -oE 'TUND_[A-Z_]+') |
  sort -u)
[ "$(wc -w <<<"$variables")" -ge 10 ] || fail "found too few variables in the sources: $variables"
for var in $variables; do
  has_term "$PAGE8" ENVIRONMENT "$var" || fail "tund(8) ENVIRONMENT lacks $var"
done

echo "== every key the config file accepts is in tund.conf(5), and only those"
for key in $(help_names | grep -E '^--' | sed 's/^--//' | grep -vxE 'help|version|config'); do
  has_term "$PAGE5" KEYS "$key" || fail "tund.conf(5) KEYS has no entry for '$key'"
done
# The binary decides what a key is: a bogus key must be refused (so this check can fail),
# each documented key must not be. One key alone never starts a tunnel (--iface and the
# mode are both required), so tund exits with a usage error whatever the key.
# conf_try KEY: CONF_OUT = what tund says about a config file holding only `KEY = 1`.
conf_try() {
  printf '%s = 1\n' "$1" >"$WORK/one.conf"
  CONF_OUT=$(timeout 10 "$TUND_BIN" --config "$WORK/one.conf" 2>&1) &&
    fail "tund accepted a config file with only '$1 = 1'"
  true
}
conf_try no-such-key
[[ $CONF_OUT == *"unknown key 'no-such-key'"* ]] || fail "a bogus key is not refused: $CONF_OUT"
for key in $(terms "$PAGE5" KEYS | awk '{ print $1 }'); do
  conf_try "$key"
  [[ $CONF_OUT != *"unknown key"* ]] || fail "tund.conf(5) documents '$key'; tund: $CONF_OUT"
done
for key in help version config; do  # refused, naming the line and the key
  conf_try "$key"
  [[ $CONF_OUT == *"line 1: "*"'$key'"* ]] ||
    fail "tund.conf(5) says '$key' is not a key, but tund takes it: $CONF_OUT"
done

echo "== the pages format cleanly and install compressed"
for page in "$PAGE8" "$PAGE5"; do
  ! grep -nE '@[A-Z_]+@' "$page" || fail "$page has an unconfigured @VARIABLE@"
  warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null)
  [ -z "$warnings" ] || fail "groff warns about $page (lintian reports these): $warnings"
done
DESTDIR=$WORK/root cmake --install "$TUND_BUILD_DIR" --prefix /usr >"$WORK/install.log" 2>&1 ||
  fail "cmake --install failed: $(tail -5 "$WORK/install.log")"
for installed in share/man/man8/tund.8 share/man/man5/tund.conf.5; do
  gz=$WORK/root/usr/$installed.gz
  [ -f "$gz" ] || fail "not installed: /usr/$installed.gz"
  gzip -dc "$gz" | cmp -s - "$TUND_BUILD_DIR/docs/$(basename "$installed")" ||
    fail "/usr/$installed.gz is not the generated page"
done
[ -f "$WORK/root/usr/share/bash-completion/completions/tund" ] || fail "completion not installed"

pass "tund(8) documents all $OPTION_COUNT options, the commands, signals and variables; tund.conf(5) every key"
