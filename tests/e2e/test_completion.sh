#!/usr/bin/env bash
# Bash completion for tund (completion/tund.bash), driven the way bash drives it: the
# function `complete` registers is called with COMP_WORDS/COMP_CWORD/COMP_LINE/COMP_POINT
# set, and COMPREPLY is checked. Twice: installed by `cmake --install` and loaded on demand
# by bash-completion, as in a user's shell; and sourced in a bare bash without
# bash-completion's helpers. The options it offers must be exactly those
# of the real binary's `tund --help`, and every option must take a value in the completion
# exactly when it takes one in tund. Needs no root.
source "$(dirname "$0")/help_options.sh"

COMPLETION=$SOURCE_DIR/completion/tund.bash
BASH_COMPLETION=/usr/share/bash-completion/bash_completion
[ -f "$BASH_COMPLETION" ] || skip_or_fail "needs $BASH_COMPLETION (apt-get install bash-completion)"
WORK=$(mktemp -d /tmp/tund-completion.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir "$WORK/empty" "$WORK/conf" "$WORK/conf/sub"
touch "$WORK/conf/a.conf" "$WORK/conf/b.key" "$WORK/conf/with space.conf"
DESTDIR=$WORK/root cmake --install "$TUND_BUILD_DIR" --prefix /usr >"$WORK/install.log" 2>&1 ||
  fail "cmake --install failed: $(tail -5 "$WORK/install.log")"
INSTALLED=$WORK/root/usr/share/bash-completion/completions/tund
cmp -s "$INSTALLED" "$COMPLETION" || fail "$COMPLETION is not installed as $INSTALLED"

# complete_line LINE: COMPREPLY for the cursor at the end of LINE, with the words split as
# bash splits them (`--opt=value` is `--opt` `=` `value`; a trailing space starts a new,
# empty word).
complete_line() {
  COMP_LINE=$1
  COMP_POINT=${#1}
  COMP_WORDS=()
  local word
  for word in $1; do
    if [[ $word == --*=* ]]; then
      COMP_WORDS+=("${word%%=*}" "=")
      [ -n "${word#*=}" ] && COMP_WORDS+=("${word#*=}")
    else
      COMP_WORDS+=("$word")
    fi
  done
  [[ $1 == *" " ]] && COMP_WORDS+=("")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  local function
  function=$(complete -p tund | sed -nE 's/.* -F ([^ ]+) .*/\1/p')
  [ -n "$function" ] || fail "completion/tund.bash registers no function for tund"
  "$function" tund "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
}

# expect LINE WORD...: the replies to LINE are exactly the WORDs (in any order).
expect() {
  local line=$1
  shift
  complete_line "$line"
  local got want
  got=$(printf '%s\n' "${COMPREPLY[@]}" | sort)
  want=$(printf '%s\n' "$@" | sort)
  [ "$got" = "$want" ] || fail "[$MODE] '$line<TAB>' gave [${got//$'\n'/ }], expected [${want//$'\n'/ }]"
}

# offers LINE WORD...: the replies to LINE include every WORD.
offers() {
  local line=$1 word
  shift
  complete_line "$line"
  for word in "$@"; do
    grep -qxF -- "$word" <<<"$(printf '%s\n' "${COMPREPLY[@]}")" ||
      fail "[$MODE] '$line<TAB>' does not offer '$word' (got: ${COMPREPLY[*]})"
  done
}

check_completion() {
  cd "$WORK/empty" || exit 1  # files completed for a value never look like options here
  expect "tund --tr" --transport
  expect "tund -t " tcp udp
  expect "tund --transport u" udp
  expect "tund --transport=u" udp
  expect "tund --transport=" tcp udp
  expect "tund --cipher " auto aes-256-gcm chacha20-poly1305
  expect "tund -s --cipher=c" chacha20-poly1305
  expect "tund --threads " auto
  expect "tund --threads=a" auto
  expect "tund --threads 2" # a count: nothing to offer
  expect "tund g" genkey genpsk
  expect "tund " genkey pubkey genpsk show reload disconnect
  expect "tund sh" show
  expect "tund show --" --json --dump --prometheus --control-socket --help
  expect "tund show --j" --json
  expect "tund reload --" --control-socket --help
  expect "tund disconnect tun0 --c" --control-socket
  expect "tund disconnect tun0 alice " # the peer cannot be guessed; nothing after it
  offers "tund show --control-socket $WORK/conf/a" "$WORK/conf/a.conf"
  offers "tund show --control-socket=$WORK/conf/a" "$WORK/conf/a.conf"
  expect "tund show --control-socket $WORK/conf/a.conf tun0 " # one interface at most
  expect "tund genkey " # the key commands take no arguments
  expect "tund -s g"    # nor are they options' neighbours
  offers "tund -i lo" lo
  offers "tund --iface " lo
  offers "tund --config $WORK/conf/" "$WORK/conf/a.conf" "$WORK/conf/b.key" \
    "$WORK/conf/with space.conf"
  for option in --private-key --psk --allow-file --peer-key --allow; do
    offers "tund -s $option $WORK/conf/b" "$WORK/conf/b.key"
  done
  offers "tund pubkey < $WORK/conf/b" "$WORK/conf/b.key"
  offers "tund genkey > $WORK/conf/a" "$WORK/conf/a.conf"
  offers "tund --user ro" root
  offers "tund --group ro" root
  offers "tund -c localh" localhost
  expect "tund --port "

  # Every option of the binary, none other; a value after an option exactly when tund
  # wants one (after a flag the next word is an option again).
  complete_line "tund --"
  [ "$(printf '%s\n' "${COMPREPLY[@]}" | sort)" = "$(help_names | grep -E '^--' | sort)" ] ||
    fail "[$MODE] 'tund --<TAB>' offers [${COMPREPLY[*]}], tund --help has [$(help_names | grep -E '^--' | tr '\n' ' ')]"
  complete_line "tund -"
  [ "$(printf '%s\n' "${COMPREPLY[@]}" | sort)" = "$(help_names | sort)" ] ||
    fail "[$MODE] 'tund -<TAB>' offers [${COMPREPLY[*]}], tund --help has [$(help_names | tr '\n' ' ')]"
  while read -r -a option; do
    kind=${option[-1]}
    for name in "${option[@]:0:${#option[@]}-1}"; do
      complete_line "tund $name --i"
      if [ "$kind" = value ] && [ ${#COMPREPLY[@]} -ne 0 ]; then
        fail "[$MODE] $name takes a value in tund, but the completion offers options after it"
      elif [ "$kind" = flag ] && [ "${COMPREPLY[*]}" != --iface ]; then
        fail "[$MODE] $name is a flag in tund, but the completion offers [${COMPREPLY[*]}] after it"
      fi
    done
  done < <(help_options)
  echo "PASS [$MODE]"
}

# Completion functions run in an interactive shell, never under set -eu; the checks stop
# the test through fail().
echo "== installed, loaded by bash-completion when tund is first completed"
(
  set +euo pipefail
  MODE=bash-completion
  source "$BASH_COMPLETION"
  declare -F _init_completion >/dev/null || fail "bash-completion did not load"
  # Only the installed tree: not the user's completions nor an installed tund package's.
  BASH_COMPLETION_USER_DIR=$WORK/none XDG_DATA_DIRS=$WORK/root/usr/share __load_completion tund ||
    fail "bash-completion finds no completion for tund in $WORK/root/usr/share"
  check_completion
) || exit 1
echo "== in a bash without bash-completion"
(
  set +euo pipefail
  MODE=plain
  source "$COMPLETION"
  ! declare -F _init_completion >/dev/null || fail "bash-completion is loaded"
  check_completion
) || exit 1
pass "completion offers the $OPTION_COUNT options of tund --help, their values and the key commands"
