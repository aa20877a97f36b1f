#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# tools/bench/machcpu.sh - machine CPU per relayed packet (issue 15 "Benchmark")
# in the namespace topology, at 100 B and 1200 B, five rows: the bare kernel
# datapath (tp-kpath: the offload module with channels installed, the process
# asleep), the bare user-space forwarder (tp-forwarder: recvmmsg/sendmmsg +
# GSO), turnpike itself (one worker) with kernel-offload = true and false,
# and coturn's turnserver (Debian coturn, one relay thread; the comparison
# row, skipped if not installed) (for the TURN servers the generator
# allocates and binds channels: --turn). Three phases: machine CPU at --rate
# (with --reps), then one run per row and size of p50/p99 round trip at
# 10,000 datagrams/s and of throughput with 200,000 datagrams/s offered (the
# generator's maximum: relayed/s, Mbit/s of payload, loss). Prints figures
# only.
#
#   tools/bench/machcpu.sh BUILD_DIR [--quick] [--rate PPS] [--reps N] [--size B]
#
# TP_KPATH_STATS=1 also prints the BPF program's own run time per packet
# (tp-kpath --prog-stats; it adds two clock reads per packet to the kernel row).
#
#   [cli] c0 198.51.100.2 --- s0 198.51.100.1 [srv] s1 203.0.113.1 --- p0 203.0.113.2 [peer]
#
# The generator (tp-machcpu) is pinned to CPU 0 with the client's and peer's
# receive processing (RPS on c0, p0); the server's receive processing (RPS on
# s0, s1) and the server process are on CPU 1. So "relay cpu/pkt" (CPU 1's
# busy time) is the relay's cost in both rows, while "machine/pkt" is the
# issue's figure (all busy time minus the idle rate and the generator's own
# CPU). The machine may be shared: each run alternates 500 ms with and 500 ms
# without load and subtracts the background measured in between; runs repeat
# (--reps, default 3, alternating the rows), and the summary gives medians
# over the quiet runs only (relay CPU less than TP_BENCH_QUIET = 0.10 busy
# without our load): under a heavy neighbour the subtraction does not hold.
# Needs root; all traffic stays in the namespaces made here. Bounded: 4 x reps
# runs of 1 s warm-up + 8 slices of 0.5 s loaded and 0.5 s unloaded (--quick:
# 2 slices, 1 rep) at 100k datagrams/s from the client, each echoed by the
# peer, then 2 x 5 runs of 4 slices (--quick 2) for round trip and
# throughput (about 6 min with --reps 3; --quick 1 min: those two at 100 B
# only).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../tests/netns/lib.sh"

build=${1:?usage: machcpu.sh BUILD_DIR [--quick] [--rate PPS] [--reps N] [--size B]}
shift
secs=4 rate=100000 reps=3 lat_rate=10000 tput_rate=200000 lat_secs=2 lat_sizes="100 1200" sizes="100 1200"
while [ $# -gt 0 ]; do
	case "$1" in
	--quick) secs=1 reps=1 lat_secs=1 lat_sizes=100 ;;
	--rate) rate=$2; shift ;;
	--reps) reps=$2; shift ;;
	--size) sizes=$2 lat_sizes=$2; shift ;;
	*) echo "usage: machcpu.sh BUILD_DIR [--quick] [--rate PPS] [--reps N] [--size B]" >&2; exit 2 ;;
	esac
	shift
done
gen=$build/tools/bench/tp-machcpu fwd=$build/tools/bench/tp-forwarder kpath=$build/tools/bench/tp-kpath
tp=$build/server/turnpike
coturn=$(command -v turnserver || true)
for b in "$gen" "$fwd" "$tp"; do
	[ -x "$b" ] || { echo "SKIP: $b not built"; exit 77; }
done
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (namespaces, BPF)"; exit 77; }
[ "$(nproc)" -ge 2 ] || { echo "SKIP: needs 2 CPUs (generator and relay apart)"; exit 77; }
command -v taskset >/dev/null || { echo "SKIP: taskset missing (util-linux)"; exit 77; }

trap lab_cleanup EXIT
trap 'exit 130' INT TERM
lab_relay3 || { echo "FAIL: namespaces and veths"; exit 1; }
# tp-forwarder's relay sockets use the listener's address: let the peer's
# echo find it (the server namespace does not forward)
ip -n "$peer" route add 198.51.100.0/24 via 203.0.113.1
rps() { ip netns exec "$1" sh -c "echo $3 > /sys/class/net/$2/queues/rx-0/rps_cpus"; }
rps "$srv" s0 2 && rps "$srv" s1 2 && rps "$cli" c0 1 && rps "$peer" p0 1 ||
	echo "note: RPS steering failed; relay cpu/pkt is not separated from the generator"

status=0
tmp=$(mktemp -d /tmp/tp-machcpu.XXXXXX)
chmod 755 "$tmp"
trap 'lab_cleanup; rm -rf "$tmp"' EXIT

# run_row ROW SIZE RATE SECS PHASE: one generator run against one relay;
# its RESULT line goes to $tmp/results.PHASE.
run_row() {
	local row=$1 size=$2 rate=$3 secs=$4 phase=$5 turn= label pid spid off
	case "$row" in
	tp-kernel | tp-user)
		if [ "$row" = tp-kernel ] && [ ! -x "$kpath" ]; then
			echo "turnpike with kernel path   not built (no offload)"
			return
		fi
		off=false label="turnpike user space"
		[ "$row" = tp-kernel ] && off=true label="turnpike with kernel path"
		cat >"$tmp/turnpike.conf" <<EOF
listen = [ "udp:198.51.100.1:3478" ];
relay-ip = [ "203.0.113.1" ];
workers = 1;
realm = "bench";
users = ( { name = "bench"; password = "bench"; } );
allowed-peer = [ "203.0.113.0/24" ];
user-quota = 0;
total-quota = 0;
unauth-rate = 0;
admin = "";
log-level = "info";
kernel-offload = $off;
EOF
		lab_bg srv "$tmp/server.log" taskset -c 1 "$tp" -c "$tmp/turnpike.conf"
		turn=--turn
		for _ in $(seq 50); do
			grep -q "listening on" "$tmp/server.log" 2>/dev/null && break
			sleep 0.1
		done
		if [ "$row" = tp-kernel ] && ! grep -q "kernel datapath on" "$tmp/server.log"; then
			grep "offload" "$tmp/server.log" >&2
			echo "turnpike with kernel path   did not load: no row"
			status=1
		fi
		;;
	coturn)
		# the comparison row only: coturn's turnserver with what turnpike
		# gets (one relay thread on CPU 1, the same user, realm, addresses,
		# quotas off, UDP only)
		[ -n "$coturn" ] || { echo "coturn                      not installed: no row"; return; }
		cat >"$tmp/turnserver.conf" <<EOF
listening-ip=198.51.100.1
listening-port=3478
relay-ip=203.0.113.1
min-port=49152
max-port=65535
relay-threads=1
realm=bench
server-name=bench
lt-cred-mech
user=bench:bench
userdb=$tmp/turndb
user-quota=0
total-quota=0
no-tls
no-dtls
no-cli
no-tcp-relay
no-rfc5780
no-stun-backward-compatibility
log-file=$tmp/coturn.log
simple-log
no-stdout-log
pidfile=$tmp/turnserver.pid
EOF
		lab_bg srv "$tmp/server.log" taskset -c 1 "$coturn" -c "$tmp/turnserver.conf"
		turn=--turn label="coturn (turnserver)"
		for _ in $(seq 50); do
			ip netns exec "$srv" ss -Hlun 2>/dev/null | grep -q "198.51.100.1:3478 " && break
			sleep 0.1
		done
		;;
	kernel)
		[ -x "$kpath" ] || { echo "kernel path (tp-kpath)      not built (no offload)"; return; }
		lab_bg srv "$tmp/server.log" taskset -c 1 "$kpath" --listen 198.51.100.1:3478 \
			--relay-ip 203.0.113.1 --client-ip 198.51.100.2 --peer-ip 203.0.113.2 \
			--pairs 4 --time 60 ${TP_KPATH_STATS:+--prog-stats}
		label="kernel path (tp-kpath)"
		for _ in $(seq 50); do
			grep -q "channels in the kernel" "$tmp/server.log" 2>/dev/null && break
			sleep 0.1
		done
		;;
	*)
		local args=() i
		for i in 0 1 2 3; do args+=(-p "203.0.113.2:$((9000 + i))"); done
		lab_bg srv "$tmp/server.log" taskset -c 1 "$fwd" -l 198.51.100.1:3478 -n 4 \
			"${args[@]}" -t 60
		label="user space (tp-forwarder)"
		sleep 0.3
		;;
	esac
	pid=$LAB_LAST_PID
	# the server's own pid: lab_bg started ip netns exec, which execs
	spid=$(pgrep -P "$pid" | head -1)
	timeout 30 "$gen" --cli-ns "$cli" --peer-ns "$peer" --listen 198.51.100.1:3478 \
		--client-ip 198.51.100.2 --peer-ip 203.0.113.2 --pairs 4 --rate "$rate" \
		--size "$size" --time "$secs" --gen-cpu 0 --relay-cpu 1 \
		--server-pid "${spid:-$pid}" --label "$label" $turn 2>"$tmp/gen.err" || status=1
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	grep -h "^tp-machcpu:" "$tmp/gen.err" >&2
	grep -h "^RESULT" "$tmp/gen.err" >>"$tmp/results.$phase"
	grep -h "relayed\|rejected\|error\|program ran\|tp-forwarder:\| W \| E " "$tmp/server.log" |
		grep -v "allocation ended" >&2
}

rows="kernel user tp-kernel tp-user coturn"
echo "== machine CPU per relayed datagram at $rate datagrams/s from the client"
"$gen" --header
for size in $sizes; do
	for rep in $(seq "$reps"); do
		for row in $rows; do
			run_row "$row" "$size" "$rate" "$secs" cpu
		done
	done
done
echo "== round trip at $lat_rate datagrams/s (one run per row)"
for size in $lat_sizes; do
	for row in $rows; do
		run_row "$row" "$size" "$lat_rate" "$lat_secs" lat
	done
done
echo "== throughput: $tput_rate datagrams/s offered from the client (one run per row)"
for size in $lat_sizes; do
	for row in $rows; do
		run_row "$row" "$size" "$tput_rate" "$lat_secs" tput
	done
done
echo
quiet=${TP_BENCH_QUIET:-0.10}
echo "medians [min..max] per relayed datagram (relayed once each way), over the quiet runs:"
echo "those whose relay CPU was busy < $quiet of its time without our load (other tenants)"
python3 - "$tmp" "$quiet" "$rate" "$lat_rate" "$tput_rate" <<'PY'
import os, sys, statistics as st
d, limit = sys.argv[1], float(sys.argv[2])
rate, lat_rate, tput_rate = sys.argv[3:6]

def load(phase):
    rows, p = {}, os.path.join(d, "results." + phase)
    if os.path.exists(p):
        for line in open(p):
            f = line.rstrip("\n").split("\t")
            rows.setdefault((f[1], int(f[2])), []).append([float(x) for x in f[3:]])
    return sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][0]))

print("-- machine CPU at %s datagrams/s from the client" % rate)
print("%-26s %5s %5s %21s %21s %10s %8s %6s %7s %7s" % ("row", "size", "runs",
      "machine/pkt (us)", "relay cpu/pkt (us)", "server/pkt", "gen/pkt", "loss", "p50 rtt",
      "p99 rtt"))
for (label, size), runs in load("cpu"):
    q = [r for r in runs if r[8] < limit]
    if not q:
        print("%-26s %5d %2d/%-2d  no quiet run: figures not usable" % (label, size, 0, len(runs)))
        continue
    cols = list(zip(*q))
    m = [st.median(c) for c in cols]
    rng = lambda c: "%5.2f [%5.2f..%5.2f]" % (st.median(c), min(c), max(c))
    print("%-26s %5d %2d/%-2d %21s %21s %7.2f us %5.2f us %5.2f%% %4.0f us %4.0f us" %
          (label, size, len(q), len(runs), rng(cols[0]), rng(cols[1]), m[2], m[3], m[4],
           m[5], m[6]))
print("-- round trip at %s datagrams/s from the client (client, relay, peer, relay, client)"
      % lat_rate)
print("%-26s %5s %8s %8s %6s %10s" % ("row", "size", "p50 rtt", "p99 rtt", "loss", "background"))
for (label, size), runs in load("lat"):
    for r in runs:
        print("%-26s %5d %5.0f us %5.0f us %5.2f%% %10.2f" % (label, size, r[5], r[6], r[4], r[8]))
print("-- throughput: %s datagrams/s offered from the client (the generator's maximum),"
      % tput_rate)
print("   delivered = round trips back at the client per second, payload Mbit/s each way")
print("%-26s %5s %12s %9s %6s %10s" % ("row", "size", "delivered/s", "Mbit/s", "loss",
      "background"))
for (label, size), runs in load("tput"):
    for r in runs:
        rt = float(tput_rate) * (1 - r[4] / 100)
        print("%-26s %5d %12.0f %9.0f %5.2f%% %10.2f" % (label, size, rt, rt * size * 8 / 1e6,
              r[4], r[8]))
PY
exit $status
