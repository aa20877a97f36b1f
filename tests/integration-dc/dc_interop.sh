#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# dc_interop.sh - dc-client against a WebRTC peer nobody here wrote, both
# through turnpike (TURN over UDP and ws: signaling) on 127.0.0.1.
#
#   dc_interop.sh PEER ROLE DC_CLIENT TURNPIKE
#
# PEER: chromium (headless Debian chromium driven by playwright-core from
# browser/, never a downloaded browser) or aiortc (Debian python3-aiortc).
# ROLE: the role of that peer, offer or answer; dc-client takes the other,
# with --force-relay --expect relay. The channel must open and messages go
# both ways (pings each way, a bulk transfer from dc-client).
# Exit 0 pass, 1 fail, 77 skip (peer not installed).
set -uo pipefail

peer=$1 role=$2 dc=$3 turnpike=$4
here=$(cd "$(dirname "$0")" && pwd)
case "$role" in
offer) dcrole=answer ;;
answer) dcrole=offer ;;
*) echo "role must be offer or answer"; exit 2 ;;
esac

case "$peer" in
chromium)
	command -v node >/dev/null || { echo "SKIP: node not installed"; exit 77; }
	[ -x /usr/bin/chromium ] || { echo "SKIP: /usr/bin/chromium not installed (apt-get install chromium)"; exit 77; }
	if [ ! -f "$here/browser/node_modules/playwright-core/package.json" ]; then
		command -v npm >/dev/null || { echo "FAIL: npm needed to install playwright-core"; exit 1; }
		echo "installing playwright-core (npm ci)"
		(cd "$here/browser" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund) || exit 1
	fi
	;;
aiortc)
	/usr/bin/python3 -c 'import aiortc' 2>/dev/null ||
		{ echo "SKIP: python3-aiortc not installed"; exit 77; }
	;;
*) echo "peer must be chromium or aiortc"; exit 2 ;;
esac

tmp=$(mktemp -d /tmp/dc-interop.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
	echo "FAIL ($peer $role): $*"
	for f in "$tmp"/*.log "$tmp"/*.out; do echo "---- $f"; cat "$f"; done
	exit 1
}
free_port() {
	/usr/bin/python3 -c 'import socket,sys
s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM if sys.argv[1]=="udp" else socket.SOCK_STREAM)
s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' "$1"
}

tport=$(free_port udp)
wport=$(free_port tcp)
cat >"$tmp/tp.conf" <<EOF
listen = [ "udp:127.0.0.1:$tport", "ws:127.0.0.1:$wport" ];
relay-ip = [ "127.0.0.1" ];
users = ( { name = "alice"; password = "secret"; } );
allowed-peer = [ "127.0.0.0/8" ];
EOF
"$turnpike" -c "$tmp/tp.conf" >"$tmp/turnpike.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
	grep -q listening "$tmp/turnpike.log" 2>/dev/null && break
	sleep 0.1
done
grep -q listening "$tmp/turnpike.log" || fail "turnpike did not start"
url="ws://127.0.0.1:$wport/interop-$peer-$role"

"$dc" "$dcrole" --signal "$url" --bind 127.0.0.1 --turn "127.0.0.1:$tport" --user alice \
	--pass secret --force-relay --expect relay --pings 10 --bulk 1000000 --timeout 45 --json \
	>"$tmp/dc.out" 2>"$tmp/dc.log" &
dcpid=$!
pids+=("$dcpid")
case "$peer" in
chromium)
	(cd "$here/browser" && timeout 55 node peer.mjs "$role" "$url" "127.0.0.1:$tport" alice secret) \
		>"$tmp/peer.out" 2>"$tmp/peer.log"
	;;
aiortc)
	timeout 55 /usr/bin/python3 "$here/aiortc_peer.py" "$role" "$url" "127.0.0.1:$tport" alice secret \
		>"$tmp/peer.out" 2>"$tmp/peer.log"
	;;
esac
prc=$?
drc=0
wait "$dcpid" || drc=$?
[ "$prc" = 0 ] || fail "$peer exited $prc"
[ "$drc" = 0 ] || fail "dc-client exited $drc"
/usr/bin/python3 - "$tmp/dc.out" <<'EOF' || fail "dc-client report"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["path"] == "relay" and j["rtt_ms"]["received"] == 10 and j["bulk"]["bytes"] == 1000000, j
r = j["rtt_ms"]
print("dc-client: path=%s pair=%s/%s rtt min/avg/p95 %.3f/%.3f/%.3f ms, bulk %.1f Mbit/s, open after %.0f ms"
      % (j["path"], j["selected"]["local"]["type"], j["selected"]["remote"]["type"],
         r["min"], r["avg"], r["p95"], j["bulk"]["mbit_s"], j["times_ms"]["open"]))
EOF
echo "$peer: $(cat "$tmp/peer.out")"
echo "PASS: $peer as $role"
