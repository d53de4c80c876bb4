# bash completion for tund(8): its options, their values, the key commands and the
# control commands (show, reload, disconnect).
# Installed as $datadir/bash-completion/completions/tund, which bash-completion loads the
# first time `tund` is completed; it also works sourced on its own (`. tund.bash`) in a
# bash without the bash-completion package, with simpler file and host completion.
# The option lists below mirror `tund --help`: tests/e2e/test_completion.sh fails when
# they drift apart, in either direction.

# The commands: only as the first word. The key commands take no arguments; the control
# commands take an interface (one with a control socket in /run/tund) and a few options.
_tund_key_commands=(genkey pubkey genpsk)
_tund_control_commands=(show reload disconnect)
_tund_commands=("${_tund_key_commands[@]}" "${_tund_control_commands[@]}")

# Every option of `tund --help`, long and short.
_tund_options=(-i --iface -s --server -c --connect -p --port -u --tun -a --tap
    -t --transport --listen --mtu --keepalive -d --debug --no-offload --threads --private-key
    --peer-key --allow --allow-file --psk --cipher --max-pending --peers-dir --max-peers
    --routes --link-ip --link-mac --address --peer --up --down --user --group --control-socket
    --control-group --metrics-listen --config -h --help -V --version)

# _tund_compgen ARG...: COMPREPLY = `compgen ARG... -- "$cur"`, one reply per line (so a
# file name with spaces stays one reply).
_tund_compgen() {
    mapfile -t COMPREPLY < <(compgen "$@" -- "$cur")
}

# _tund_reply WORD...: the WORDs that start with $cur.
_tund_reply() {
    local IFS=$'\n'
    _tund_compgen -W "$*"
}

_tund_dirs() {
    if declare -F _filedir >/dev/null; then
        _filedir -d
    else
        compopt -o filenames 2>/dev/null
        _tund_compgen -d
    fi
}

_tund_files() {
    if declare -F _filedir >/dev/null; then
        _filedir
    else
        compopt -o filenames 2>/dev/null
        _tund_compgen -f
    fi
}

# The network interfaces that exist now (tund attaches to one, or creates a new name).
_tund_interfaces() {
    local path names=()
    for path in /sys/class/net/*; do
        [[ -e $path ]] && names+=("${path##*/}")
    done
    _tund_reply "${names[@]}"
}

_tund_hosts() {
    if declare -F _known_hosts_real >/dev/null; then
        _known_hosts_real -- "$cur"
    else
        _tund_compgen -A hostname
    fi
}

# _tund_value OPTION: completes the value of OPTION into COMPREPLY; false (nothing done)
# when OPTION takes no value. Values that cannot be guessed (ports, addresses) get none.
# True whenever OPTION takes a value, even if nothing matched (compgen's status is not).
_tund_value() {
    case $1 in
        -t | --transport) _tund_reply tcp udp ;;
        --routes) _tund_reply auto off ;;
        --cipher) _tund_reply auto aes-256-gcm chacha20-poly1305 ;;
        --threads) _tund_reply auto ;; # or a count, which cannot be guessed
        --peers-dir) _tund_dirs ;;
        -i | --iface) _tund_interfaces ;;
        -c | --connect) _tund_hosts ;;
        --config | --private-key | --peer-key | --allow | --allow-file | --psk | --up | --down | \
            --control-socket)
            _tund_files ;;
        --user) _tund_compgen -u ;;
        --group | --control-group) _tund_compgen -g ;;
        -p | --port | --listen | --mtu | --keepalive | --max-pending | --max-peers | \
            --link-ip | --link-mac | --address | --peer | --metrics-listen) COMPREPLY=() ;;
        *) return 1 ;;
    esac
    return 0
}

# Without bash-completion: cur, prev, words and cword from COMP_WORDS. bash splits
# `--transport=u` into `--transport` `=` `u`, so an `=` joins the option to its value.
# After a redirection (`tund pubkey < FILE`) it completes the file and returns false, as
# bash-completion's _init_completion does.
_tund_init_plain() {
    words=("${COMP_WORDS[@]}")
    cword=$COMP_CWORD
    cur=${words[cword]-}
    prev=${words[cword - 1]-}
    if [[ $cur == = ]]; then
        cur=''
    elif [[ $prev == = ]]; then
        prev=${words[cword - 2]-}
    elif [[ $prev == [\<\>] ]]; then
        _tund_files
        return 1
    fi
}

# The interfaces of running tunds: the names of the control sockets in /run/tund.
_tund_running() {
    local path name names=()
    for path in /run/tund/*.sock; do
        [[ -S $path ]] || continue
        name=${path##*/}
        names+=("${name%.sock}")
    done
    _tund_reply "${names[@]}"
}

# tund show|reload|disconnect: their options; the interface as the first operand (the
# peer of disconnect cannot be guessed). --control-socket's value is no operand, whether
# written --control-socket=PATH (one word, or `=` and PATH without bash-completion) or as
# two words.
_tund_control() {
    local i word operands=0
    for ((i = 2; i < cword; i++)); do
        word=${words[i]}
        if [[ $word == --control-socket ]]; then
            [[ ${words[i + 1]-} == = ]] && ((i++))
            ((i++))
        elif [[ $word != -* && $word != = ]]; then
            ((operands++))
        fi
    done
    if [[ $cur == -* ]]; then
        if [[ ${words[1]} == show ]]; then
            _tund_reply --json --dump --prometheus --control-socket --help
        else
            _tund_reply --control-socket --help
        fi
    elif ((operands == 0)); then
        _tund_running
    fi
}

_tund() {
    # shellcheck disable=SC2034 # split: set by _init_completion -s, kept local here
    local cur prev words cword split
    COMPREPLY=()
    if declare -F _init_completion >/dev/null; then
        _init_completion -s || return
    else
        _tund_init_plain || return
    fi
    _tund_value "$prev" && return
    if ((cword == 1)) && [[ $cur != -* ]]; then
        _tund_reply "${_tund_commands[@]}"
        return
    fi
    [[ " ${_tund_key_commands[*]} " == *" ${words[1]} "* ]] && return  # no arguments
    if [[ " ${_tund_control_commands[*]} " == *" ${words[1]} "* ]]; then
        _tund_control
        return
    fi
    # Every option, those already given too: --address, --peer, --link-ip (one IPv4 and
    # one IPv6 each for --peer and --link-ip), --allow and --allow-file repeat.
    [[ $cur == -* ]] && _tund_reply "${_tund_options[@]}"
}

complete -F _tund tund
