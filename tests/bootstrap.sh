#!/usr/bin/env bash
# Installs what tund needs to build and test (Debian 12 packages only) and builds it.
# Sourced by examples/demo.sh and tests/run.sh; safe to run again (apt-get skips what is
# installed, cmake rebuilds only what changed).
#   BUILD_DIR   where to build (default: build)
#   CMAKE_ARGS  extra arguments for cmake configure
# Warnings are errors here (TUND_WERROR=ON): these builds are development and CI, with the
# compiler the code is checked against (Debian 12's g++).
set -euo pipefail
# grep -q stops reading at the first match; under pipefail the writer's SIGPIPE then fails
# the whole pipeline (a flaky "not found"). This reads all its input.
quiet_grep() { grep "$@" >/dev/null; }

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}

PACKAGES=(
  # build
  cmake make g++ pkg-config libasio-dev libcli11-dev libsodium-dev libgtest-dev
  # status: JSON for tund show --json, HTTP for the Prometheus endpoint
  nlohmann-json3-dev libcpp-httplib-dev
  # fuzzing: clang with libFuzzer
  clang libclang-rt-14-dev
  # tests, demo and benchmarks: namespaces, ping, ssh, transfers, iperf3
  iproute2 iputils-ping openssh-server openssh-client socat util-linux procps iperf3 tcpdump xxd nftables iptables systemd
  libnetfilter-queue-dev
  # status tests: the JSON schema checked (python3-jsonschema), the metrics checked by
  # promtool and scraped by a real Prometheus server
  python3-jsonschema prometheus
  # the link responder's IPv6 replies checked against an independent implementation
  python3-scapy
  # man pages (scdoc), completion, the Debian package (dpkg-shlibdeps, dpkg-buildflags),
  # its checks (lintian, man -w)
  scdoc bash-completion dpkg-dev lintian man-db
)

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | quiet_grep "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "bootstrap: missing packages: ${missing[*]} (run as root to install them)" >&2
    return 1
  fi
  echo "bootstrap: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # iperf3 asks whether to start a daemon; the answer is no.
  echo "iperf3 iperf3/start_daemon boolean false" | debconf-set-selections 2>/dev/null || true
  # Packages with a service (prometheus) must not start it on this machine: the tests start
  # their own, on loopback in a namespace. policy-rc.d(8) says no while installing, unless
  # the machine already has its own policy.
  local policy=/usr/sbin/policy-rc.d own_policy=0
  if [ ! -e $policy ]; then
    printf '#!/bin/sh\nexit 101\n' >$policy && chmod 755 $policy && own_policy=1
  fi
  local status=0
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || status=$?
  [ $own_policy -eq 0 ] || rm -f $policy
  return $status
}

build() {
  cmake -S "$ROOT" -B "$BUILD_DIR" -DTUND_WERROR=ON ${CMAKE_ARGS:-} >/dev/null
  cmake --build "$BUILD_DIR" -j"$(nproc)"
}

install_packages
build
