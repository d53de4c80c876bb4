# shellcheck shell=bash
# The tables of tests/bench/compare.sh, made from its results file alone (sourced by it; it
# also re-renders a saved file: compare.sh --table FILE). The file's lines:
#   PATH ROUND UP DOWN PAR IDLE LOADED CPU RSS
#       iperf3 receiver Mbit/s up, down, -P 4 up; ping ms idle and loaded; CPU-s/GB of both
#       tunnel processes (GB = 10^9 bytes of iperf3 payload); peak RSS MB; CPU and RSS "-"
#       without a tunnel process (veth, vxlan); a failed run is all 0
#   #run DATE SECONDS ROUNDS MTU PATH,PATH,... CORES KERNEL CPU MODEL...
#       the run's parameters and machine, once
#   #cipher FRAME_SIZE NAME SEAL OPEN
#       cipher_bench --machine at that frame size (CPU-s/GB of frame bytes, "-": not
#       available); once per round, the best (lowest) of each counts
#   #frames PATH ROUND CIPHER SEALED_FRAMES SEALED_BYTES OPENED_FRAMES OPENED_BYTES PAYLOAD SOURCE
#       an encrypted tund path's run: the cipher the daemons negotiated; the frames (and
#       their bytes) both ends sealed, and opened, while its CPU was counted (sent and
#       delivered: a frame lost on the way was sealed, not opened); the iperf3 payload
#       bytes its CPU-s/GB divides by; SOURCE "dump" (counted by the daemons, tund show
#       --dump) or "log" (cipher from the log, frames estimated)

# check_results FILE: silent and true for a results file of the shape above; else prints
# why (the first offending line) and fails, so --table never renders garbage as figures.
check_results() {
  awk '
    function num(v) { return v ~ /^[0-9]+(\.[0-9]+)?$/ }
    function cell(v) { return num(v) || v == "-" }
    /^#run / { run = 1; next }
    /^#(cipher|frames) / || /^[[:space:]]*$/ { next }
    /^#/ { bad = "line " NR ": unknown record " $1; exit }
    NF != 9 || !num($2) { bad = "line " NR ": expected PATH ROUND UP DOWN PAR IDLE LOADED CPU RSS"; exit }
    { for (i = 3; i <= 9; i++) if (!cell($i)) { bad = "line " NR ": \"" $i "\" is not a figure"; exit } }
    { rows++ }
    END {
      if (bad == "" && !run) bad = "no #run line"
      if (bad == "" && !rows) bad = "no measurements"
      if (bad != "") { print bad; exit 1 }
    }' "$1"
}

# The userspace tunnels: the best of them is the "best peer" (vxlan is the kernel's).
PEER_PATHS="wireguard-go openvpn-udp openvpn-tcp vtun-aes vtun-plain fastd-null fastd-salsa simpletun"
# What encryption may cost beyond the cipher itself (issue 16), CPU-s/GB.
OVERHEAD_TARGET=0.3

# median(): a failed measurement (0) is left out; all failed gives 0; "-" stays "-".
COMPARE_AWK_LIB='
function median(list,   n, a, i, j, t, m, b) {
  m = split(list, b, " "); n = 0
  for (i = 1; i <= m; i++) if (b[i] + 0 > 0 || b[i] == "-") a[++n] = b[i]
  if (n == 0) return 0
  for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
  return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}'

# The measured paths in the order of the run: its #run line, else first seen.
results_paths() {  # FILE
  local run
  run=$(awk '$1 == "#run" {print $6; exit}' "$1")
  if [ -n "$run" ]; then
    tr ',' ' ' <<<"$run"
  else
    awk '$1 !~ /^#/ && !seen[$1]++ {printf "%s ", $1}' "$1"
  fi
}

render_header() {  # FILE: from its #run line; a file without one gets this machine and today
  local date seconds='?' rounds='?' mtu=1400 paths cores kernel model
  date=$(date -u +%Y-%m-%d) cores=$(nproc) kernel=$(uname -r)
  model=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
  if grep -q '^#run ' "$1"; then
    read -r _ date seconds rounds mtu paths cores kernel model < <(grep -m1 '^#run ' "$1")
  fi
  echo
  echo "tund vs other tunnels, $date, $cores cores ($model), kernel $kernel"
  echo "iperf3 TCP over two namespaces joined by veth, $seconds s per run, median of $rounds round$([ "$rounds" = 1 ] || echo s) (order rotated), tunnel MTU $mtu"
  echo "ratios: mean of up and down vs the bare link, vs kernel VXLAN, and vs the best peer's (the fastest userspace non-tund path)"
  echo "CPU-s/GB: both tunnel processes, user + system, per 10^9 bytes of iperf3 payload"
  echo
}

render_main() {  # FILE PATHS
  awk -v paths="$2" -v peers="$PEER_PATHS" "$COMPARE_AWK_LIB"'
    $1 ~ /^#/ { next }
    { up[$1] = up[$1] " " $3; down[$1] = down[$1] " " $4; par[$1] = par[$1] " " $5
      idle[$1] = idle[$1] " " $6; loaded[$1] = loaded[$1] " " $7; cpu[$1] = cpu[$1] " " $8; rss[$1] = rss[$1] " " $9 }
    function mean_of(k) { return (k in up) ? (median(up[k]) + median(down[k])) / 2 : 0 }
    function ratio(t, base) { return base > 0 ? sprintf("%.0f%%", 100 * t / base) : "-" }
    END {
      n = split(paths, p, " ")
      split(peers, pl, " "); for (i in pl) is_peer[pl[i]] = 1
      veth = mean_of("veth"); vxlan = mean_of("vxlan")
      best = 0; best_name = "-"
      for (i = 1; i <= n; i++) if (p[i] in is_peer && mean_of(p[i]) > best) { best = mean_of(p[i]); best_name = p[i] }
      printf "| %-18s | %7s | %7s | %8s | %7s | %8s | %7s | %9s | %9s | %8s | %6s |\n", "path", "up Gb/s", "down", "-P4 up", "vs veth", "vs vxlan", "vs best", "ping idle", "ping load", "CPU-s/GB", "RSS MB"
      printf "|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n", "--------------------", "---------", "---------", "----------", "---------", "----------", "---------", "-----------", "-----------", "----------", "--------"
      for (i = 1; i <= n; i++) {
        k = p[i]; u = median(up[k]); d = median(down[k]); t = (u + d) / 2
        rb = best > 0 ? sprintf("%.1fx", t / best) : "-"
        c = (cpu[k] ~ /-/) ? "-" : sprintf("%.2f", median(cpu[k]))
        r = (rss[k] ~ /-/) ? "-" : sprintf("%d", median(rss[k]))
        printf "| %-18s | %7.2f | %7.2f | %8.2f | %7s | %8s | %7s | %9.3f | %9.3f | %8s | %6s |\n", k, u / 1000, d / 1000, median(par[k]) / 1000, ratio(t, veth), ratio(t, vxlan), rb, median(idle[k]), median(loaded[k]), c, r
      }
      printf "\nbest peer: %s\n", best_name
    }' "$1"
}

# The cipher's cost of one run, in CPU-s per GB of payload. Sealing a frame costs
# a + b * size seconds (a line through cipher_bench's two frame sizes: the MTU, and a small
# one like the ACKs that flow back), and so does opening one with its own a and b; so the
# frames sealed cost SEALED_FRAMES * a + SEALED_BYTES * b, the frames opened likewise, and
# the sum over the payload GB is what the run's CPU-s/GB compares with. With one frame
# size only, the cost is per byte (a = 0). The daemons count the frames, so the scaling
# from iperf3 payload to what is sealed and opened (each segment's IP and TCP headers, the
# ACKs, retransmissions, losses, the pings) is measured, not assumed; a "log" run estimates
# it (compare.sh, record_frames).
COMPARE_AWK_CIPHER='
function op_cost(op, name, frames, bytes,   s1, s2, t1, t2, a, b) {
  s1 = big[name]; t1 = cost[op, name, s1] * s1 / 1e9
  s2 = small[name]; t2 = cost[op, name, s2] * s2 / 1e9
  if (s2 < s1) { b = (t1 - t2) / (s1 - s2); a = t1 - b * s1 } else { a = 0; b = t1 / s1 }
  return frames * a + bytes * b
}
function cipher_cost(name, sealed_frames, sealed_bytes, opened_frames, opened_bytes, payload) {
  if (!(name in big) || payload <= 0) return -1
  return (op_cost("seal", name, sealed_frames, sealed_bytes) + op_cost("open", name, opened_frames, opened_bytes)) / (payload / 1e9)
}
function keep_best(op, name, size, c,   key) {
  key = op SUBSEP name SUBSEP size
  if (!(key in cost) || c < cost[key]) cost[key] = c
}
$1 == "#cipher" && $4 != "-" {
  keep_best("seal", $3, $2, $4); keep_best("open", $3, $2, $5)
  if (!($3 in big) || $2 + 0 > big[$3]) big[$3] = $2 + 0
  if (!($3 in small) || $2 + 0 < small[$3]) small[$3] = $2 + 0
}'

render_overhead() {  # FILE PATHS
  awk -v paths="$2" -v target="$OVERHEAD_TARGET" "$COMPARE_AWK_LIB $COMPARE_AWK_CIPHER"'
    # Kept for the end: the cipher figures of later rounds may still come.
    $1 == "#frames" { runs[++nr] = $0; next }
    $1 ~ /^#/ { next }
    { cpu[$1] = cpu[$1] " " $8; up[$1] = up[$1] " " $3; down[$1] = down[$1] " " $4 }
    function cell(list) { return list == "" ? "-" : sprintf("%.2f", median(list)) }
    function collect(   i, f, c) {
      for (i = 1; i <= nr; i++) {
        split(runs[i], f, " ")
        names[f[2]] = (names[f[2]] == "" || names[f[2]] == f[4]) ? f[4] : names[f[2]] "/" f[4]
        c = cipher_cost(f[4], f[5], f[6], f[7], f[8], f[9])
        if (c >= 0) { ciph[f[2]] = ciph[f[2]] " " c; scale[f[2]] = scale[f[2]] " " f[6] / f[9] }
        if (f[10] != "dump") estimated[f[2]] = 1
      }
    }
    function throughput(k) { return (k in up) ? (median(up[k]) + median(down[k])) / 2 : 0 }
    function row(k,   plain, e, pl, ci, sc, o, met, name, tp) {
      plain = k; sub(/-enc/, "", plain)
      e = cell(cpu[k]); pl = cell(cpu[plain]); ci = cell(ciph[k])
      sc = scale[k] == "" ? "-" : sprintf("%.3f", median(scale[k]))
      o = (e == "-" || pl == "-" || ci == "-" || e + 0 == 0 || pl + 0 == 0) ? "-" : sprintf("%.2f", e - pl - ci)
      met = o == "-" ? "-" : (o + 0 <= target + 0 ? "yes" : "no")
      name = (k in names ? names[k] : "-") (k in estimated ? " (log)" : "")
      tp = throughput(plain) > 0 ? sprintf("%.0f%%", 100 * throughput(k) / throughput(plain)) : "-"
      printf "| %-18s | %-23s | %8s | %-18s | %8s | %6s | %8s | %8s | %6s | %4s | %8s |\n", k, name, e, plain, pl, ci, sc, o, "<= " target, met, tp
    }
    END {
      collect()
      n = split(paths, p, " ")
      for (i = 1; i <= n; i++) if (p[i] ~ /tund-.*enc/) rows[++m] = p[i]
      if (m == 0) exit
      printf "\nencryption overhead, CPU-s/GB: the encrypted path'"'"'s - its plaintext path'"'"'s - the cipher'"'"'s\n"
      printf "| %-18s | %-23s | %8s | %-18s | %8s | %6s | %8s | %8s | %6s | %4s | %8s |\n", "encrypted path", "cipher", "CPU-s/GB", "plaintext path", "CPU-s/GB", "cipher", "sealed/B", "overhead", "target", "met?", "of plain"
      printf "|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n", "--------------------", "-------------------------", "----------", "--------------------", "----------", "--------", "----------", "----------", "--------", "------", "----------"
      for (r = 1; r <= m; r++) row(rows[r])
      print "cipher: sealing the frames sealed and opening those opened, both ends (cipher_bench, best"
      print "round); sealed/B: frame bytes sealed per payload byte; of plain: throughput (mean of up and"
      print "down) vs the plaintext path; (log): cipher from the log, frames estimated; \"-\": not measured"
    }' "$1"
}

render_results() {  # FILE [PATHS]: the header, the main table and the overhead table
  local paths=${2:-$(results_paths "$1")}
  render_header "$1"
  render_main "$1" "$paths"
  render_overhead "$1" "$paths"
}
