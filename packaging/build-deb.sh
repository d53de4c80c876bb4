#!/usr/bin/env bash
# Builds the Debian package tund_<version>_<arch>.deb from this checkout:
#   packaging/build-deb.sh [BUILD_DIR]      (default: build-release)
# A Release build with prefix /usr and Debian's hardening flags (dpkg-buildflags), made
# into a .deb by CPack from the CMake install rules. Extra cmake arguments in CMAKE_ARGS
# (tests/run.sh adds -DTUND_WERROR=ON). Prints the path of the package.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build-release}
# CPPFLAGS/CXXFLAGS/LDFLAGS as Debian builds its own packages (fortify, stack protector,
# relro), plus bind-now (hardening=+all), recommended for a network daemon that runs as
# root; CMake reads them from the environment at its first configure.
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
eval "$(dpkg-buildflags --export=sh)"
export CXXFLAGS="$CPPFLAGS $CXXFLAGS"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
  -DTUND_BUILD_TESTS=OFF ${CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD" -j"$(nproc)"
rm -f "$BUILD"/tund_*.deb
(cd "$BUILD" && cpack -G DEB >/dev/null)
ls "$BUILD"/tund_*.deb
