#!/usr/bin/env bash
# Fails when a module includes one it may not (ARCHITECTURE.md, "Dependency direction").
# The engine may see only the device and transport *interfaces*.
set -eu
root=${1:-.}
# The arrows are written once, in cmake/layers.txt (the build enforces them too).
layers="$root/cmake/layers.txt"
[ -s "$layers" ] || { echo "layering: $layers missing or empty"; exit 1; }
declare -A allowed=()
while IFS=: read -r module entries; do
  case "$module" in ''|\#*) continue ;; esac
  allowed[$module]=$entries
done < "$layers"
[ ${#allowed[@]} -gt 0 ] || { echo "layering: no arrows in $layers"; exit 1; }
status=0
for module in "${!allowed[@]}"; do
  for file in $(find "$root/include/tund/$module" "$root/src/$module" -type f 2>/dev/null); do
    while read -r included; do
      ok=0
      for prefix in ${allowed[$module]}; do
        case "$included" in "$prefix"/*|"$prefix") ok=1 ;; esac
      done
      if [ $ok -eq 0 ]; then
        echo "layering: $file includes tund/$included ($module may not)"
        status=1
      fi
    done < <(sed -n 's|^#include "tund/\([^"]*\)".*|\1|p' "$file")
  done
  # Only crypto may include sodium; proto/config/tunnel/crypto never include Asio.
  if [ "$module" != crypto ] && grep -rl '#include <sodium' "$root/include/tund/$module" "$root/src/$module" 2>/dev/null; then
    echo "layering: only crypto may include libsodium ($module does)"; status=1
  fi
  case $module in proto|config|tunnel|crypto|link|offload)
    if grep -rl '#include <asio' "$root/include/tund/$module" "$root/src/$module" 2>/dev/null; then
      echo "layering: $module must not include Asio"; status=1
    fi ;;
  esac
done
[ $status -eq 0 ] && echo "layering: ok"
exit $status
