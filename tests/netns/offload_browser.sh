#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# tests/netns/offload_browser.sh - headless Chromium through turnpike with
# kernel-offload on or off, in the three-namespace topology of
# offload_server.sh:
#
#   [cli] c0 198.51.100.2 -- s0 198.51.100.1 [srv] s1 203.0.113.1 -- p0 203.0.113.2 [peer]
#
# A Chromium in cli (policy relay, turn:198.51.100.1:3478?transport=udp) and a
# Chromium in peer (no ICE server: host candidates only) open a data channel;
# the client's allocation relays to the peer's host address through the
# channel libwebrtc binds. offload_browser.mjs drives both browsers and checks
# delivery; this script checks the server's metrics: with on, the kernel
# carried most datagrams each way; with off, none. Removed by the trap.
#
#   offload_browser.sh TURNPIKE on|off       (exit 0 pass, 1 fail, 77 skip)
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

bin=$1 mode=$2
browser="$here/../browser"
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: network namespaces (and the kernel datapath) need root"
	exit 77
fi
for t in ip python3 curl node timeout; do
	command -v "$t" >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done
[ -x /usr/bin/chromium ] || { echo "SKIP: /usr/bin/chromium not installed"; exit 77; }
if [ ! -f "$browser/node_modules/playwright-core/package.json" ]; then
	(cd "$browser" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund) ||
		{ echo "FAIL: npm ci"; exit 1; }
fi
tmp=$(mktemp -d /tmp/offload-browser.XXXXXX)
chmod 755 "$tmp"
trap 'lab_cleanup; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

fail() {
	echo "FAIL: $*"
	echo "---- turnpike.log (tail)"
	tail -40 "$tmp/turnpike.log"
	exit 1
}

lab_relay3 || fail "namespaces and veths"
# Without a default route Chromium (no media permission) finds no interface
# to gather host candidates on; the server namespace does not forward, so
# nothing goes anywhere through it.
ip -n "$peer" route add default via 203.0.113.1
ip -n "$cli" route add default via 198.51.100.1
# Client and peer compute their UDP checksums as real NICs do; otherwise every
# datagram reaches TC as CHECKSUM_PARTIAL and stays in user space
# (docs/OFFLOAD.md, Checksums). ETHTOOL_STXCSUM 0 = `ethtool -K IF tx off`.
for l in "$cli c0" "$peer p0"; do
	set -- $l
	ip netns exec "$1" python3 -c '
import ctypes, fcntl, socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
ev = ctypes.create_string_buffer(struct.pack("II", 0x17, 0), 8)
fcntl.ioctl(s.fileno(), 0x8946, struct.pack("16sP", sys.argv[1].encode(), ctypes.addressof(ev)) + b"\0" * 16)
' "$2" || fail "tx checksum offload off on $2"
done

cat >"$tmp/turnpike.conf" <<CONF
listen = [ "udp:198.51.100.1:3478" ];
relay-ip = [ "203.0.113.1" ];
min-port = 50000; max-port = 50099;
realm = "test";
users = ( { name = "alice"; password = "alicepw"; } );
demo-user = false; unauth-rate = 0;
allowed-peer = [ "203.0.113.0/24" ];
default-lifetime = 60; max-lifetime = 60; admin = "";
log-level = "debug";
metrics = "http:127.0.0.1:9641";
kernel-offload = $([ "$mode" = on ] && echo true || echo false);
CONF
lab_bg srv "$tmp/turnpike.log" "$bin" -c "$tmp/turnpike.conf"
for _ in $(seq 100); do
	grep -q "listening on" "$tmp/turnpike.log" 2>/dev/null && break
	sleep 0.1
done
grep -q "listening on" "$tmp/turnpike.log" || fail "turnpike did not start"
if [ "$mode" = on ]; then
	grep -q "offload: kernel datapath on" "$tmp/turnpike.log" || fail "kernel datapath not loaded"
else
	grep -q "offload:" "$tmp/turnpike.log" && fail "offload mentioned with kernel-offload off"
fi

metric() { # metric NAME: its value from the server's /metrics (0 if absent)
	ip netns exec "$srv" curl -s --max-time 3 http://127.0.0.1:9641/metrics |
		awk -v k="$1" '$1 == k { v = $2 } END { print v + 0 }'
}

HOME=$tmp timeout 45 node "$here/offload_browser.mjs" "$cli" "$peer" "$tmp" \
	>"$tmp/browser.log" 2>&1
rc=$?
cat "$tmp/browser.log"
[ $rc -eq 0 ] || fail "browser run (exit $rc)"
sleep 1.5 # every worker ticks: the kernel's counters are folded in

k_up=$(metric 'turnpike_offload_packets_total{direction="to_peer"}')
k_dn=$(metric 'turnpike_offload_packets_total{direction="to_client"}')
r_up=$(metric 'turnpike_relayed_packets_total{direction="to_peer",transport="udp"}')
r_dn=$(metric 'turnpike_relayed_packets_total{direction="to_client",transport="udp"}')
installed=$(metric turnpike_offload_installed_total)
echo "relayed: $r_up to the peer, $r_dn to the client; by the kernel: $k_up, $k_dn;" \
	"channels installed: $installed"
ip netns exec "$srv" curl -s --max-time 3 http://127.0.0.1:9641/metrics |
	grep -E '^turnpike_(offload|relayed)_[a-z_]*(\{.*\})? [1-9]' # the evidence, nonzero only
# TP_DIAG=1: the veths' and the endpoints' UDP drop counters. With the kernel
# path the browsers' own sockets sometimes overflow (UdpRcvbufErrors in cli or
# peer) and SCTP retransmits: more datagrams, same delivery.
if [ -n "${TP_DIAG:-}" ]; then
	for ns in "$cli" "$peer" "$srv"; do
		echo "== $ns"; ip -n "$ns" -s link | grep -A6 -E '^[0-9]+: [cps][01]'
		ip netns exec "$ns" nstat -az 2>/dev/null | grep -E 'Udp(InErrors|RcvbufErrors|NoPorts|InCsumErrors)|IpOutNoRoutes'
	done
fi
n=$(sed -n 's/^messages each way: //p' "$tmp/browser.log")
[ "${n:-0}" -gt 0 ] || fail "no message count from the browser run"
[ "$r_up" -ge "$n" ] && [ "$r_dn" -ge "$n" ] || fail "fewer datagrams relayed than messages"
if [ "$mode" = on ]; then
	[ "$installed" -ge 1 ] || fail "no channel was installed in the kernel"
	# most: at least 80% of all relayed datagrams each way (the rest are the
	# ICE checks and DTLS before the channel is bound)
	[ $((k_up * 10)) -ge $((r_up * 8)) ] && [ $((k_dn * 10)) -ge $((r_dn * 8)) ] ||
		fail "the kernel carried less than 80% of the datagrams"
	echo "ok: the kernel carried $((k_up * 100 / r_up))% / $((k_dn * 100 / r_dn))% of the datagrams"
else
	[ "$k_up" -eq 0 ] && [ "$k_dn" -eq 0 ] && [ "$installed" -eq 0 ] ||
		fail "kernel counters moved with kernel-offload off"
	echo "ok: no kernel datagrams"
fi
echo "PASS"
