#!/usr/bin/env bash
# Logs for journald and for people. systemd sets JOURNAL_STREAM=<st_dev>:<st_ino> when a
# service's stderr is the journal (systemd.exec(5)); tund must then start every line with
# the sd-daemon(3) priority (<3> error, <4> warn, <6> info, <7> debug) and add no timestamp
# of its own. When the variable names another file (a child whose stderr was redirected),
# lines are for people: RFC 3339 UTC timestamps with the date.
# The real daemon, one line of each level: info at start, debug (-d) for a ping of its link
# address answered locally, a warning for a garbage datagram, an error for a failing --down.
# A hook's output is read by tund and logged line by line ("hook up: ..."): stdout at info,
# stderr (a shell's own error included) at warning, each line with the prefix or timestamp,
# bytes that are not UTF-8 as \xNN (journald would store the line as a blob).
. "$(dirname "$0")/lib.sh"
require_tools stat socat
ip netns add "$NS_S"
ip -n "$NS_S" link set lo up

# run_server LOG JOURNAL_STREAM: one short life of a server, stderr (and stdout) into LOG.
run_server() {
  local log=$1 stream=$2 extra
  mapfile -t extra < <(daemon_extra_args)
  ip netns exec "$NS_S" env JOURNAL_STREAM="$stream" "$TUND_BIN" -s -i "tuns$ID" -t udp -d \
    --address 10.77.0.1/24 --link-ip 10.77.0.254 --up "$UP_HOOK" --down 'exit 3' \
    "${extra[@]}" >>"$log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  wait_until 5 grep -c "listening" "$log" || fail "the server did not start: $(cat "$log")"
  ping_ok "$NS_S" 10.77.0.254 1 || fail "the link address did not answer"
  # Not a tund message: refused with a (rate-limited) warning.
  echo garbage | ip netns exec "$NS_S" socat -u - UDP:127.0.0.1:55555
  wait_until 5 grep -c "datagram from 127.0.0.1" "$log" || fail "no warning for garbage: $(cat "$log")"
  stop_pid "$pid"
}

UP_HOOK='echo hook-out; echo hook-err >&2; printf "multi\nline\n" >&2; printf "utf8-\377\n"
sh -c "if then" || true; printf "no-newline" >&2'

# level_prefix LOG PATTERN PREFIX: every line matching PATTERN starts with PREFIX, and one does.
level_prefix() {
  local lines
  lines=$(grep -a -e "$2" "$1") || fail "no line '$2' in $1"
  if grep -v -e "^$3" <<<"$lines"; then fail "the lines above ('$2') lack the prefix $3"; fi
}

step "JOURNAL_STREAM names stderr: a priority prefix on every line, no timestamp"
JLOG=$WORK/journal.log
: >"$JLOG"
run_server "$JLOG" "$(stat -c '%d:%i' "$JLOG")"
if grep -a -v -e '^<[3467]>' "$JLOG"; then fail "the lines above have no priority prefix"; fi
level_prefix "$JLOG" "starting" "<6>info: "
level_prefix "$JLOG" "answered locally" "<7>debug: "
level_prefix "$JLOG" "datagram from 127.0.0.1" "<4>warn: "
level_prefix "$JLOG" "down hook exited with status 3" "<3>error: "
level_prefix "$JLOG" "hook up: hook-out$" "<6>info: "
for line in hook-err multi line no-newline; do level_prefix "$JLOG" "hook up: $line$" "<4>warn: "; done
level_prefix "$JLOG" "hook up: .*Syntax error" "<4>warn: "
level_prefix "$JLOG" "hook up: utf8-" '<6>info: hook up: utf8-\\xff$'
if grep -E '[0-9]{2}:[0-9]{2}:[0-9]{2}' "$JLOG"; then fail "a timestamp in journal lines (above)"; fi
pass "$(wc -l <"$JLOG") lines, each with <3>/<4>/<6>/<7> matching its level, no timestamps"

step "JOURNAL_STREAM names another file: RFC 3339 UTC timestamps, no priority prefix"
PLOG=$WORK/plain.log
: >"$PLOG"
: >"$WORK/other"
run_server "$PLOG" "$(stat -c '%d:%i' "$WORK/other")"
stamp='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z'
if grep -v -E "^$stamp tund (debug|info|warn|error): " "$PLOG"; then
  fail "the lines above lack an RFC 3339 timestamp and level"
fi
today=$(date -u +%Y-%m-%d)
yesterday=$(date -u -d '1 minute ago' +%Y-%m-%d)  # a run across midnight
grep -c -e "^$today" -e "^$yesterday" "$PLOG" >/dev/null || fail "the date is not today's (UTC)"
grep -E "^$stamp tund error: down hook exited with status 3" "$PLOG" >/dev/null ||
  fail "no error line for the failing --down"
for want in "info: hook up: hook-out" "warn: hook up: hook-err" "warn: hook up: multi" \
  "warn: hook up: no-newline"; do
  grep -E "^$stamp tund $want\$" "$PLOG" >/dev/null || fail "no line '<timestamp> tund $want'"
done
pass "$(wc -l <"$PLOG") lines, each starting with an RFC 3339 UTC timestamp and the level"
