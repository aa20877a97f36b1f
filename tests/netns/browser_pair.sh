#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# tests/netns/browser_pair.sh - two relay-only headless Chromium peers behind a
# NAT (lib.sh), both on one turnpike in the lab's "public" segment, with the
# server's DEFAULT peer policy: no allowed-peer. Each peer's only candidate is
# a relay address on that server (203.0.113.1, a documentation range the
# built-in list refuses), so each allocation must relay to the other's relay
# address, which only the relay-to-relay rule opens. The data channel must
# open and carry data, over TURN/UDP and TURN/TCP, with both selected
# candidates relay candidates on the server.
#
#   browser_pair.sh TURNPIKE
#
# Exit 0 pass, 1 fail, 77 skip (not root, or node/chromium missing).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

turnpike=$1
lab_require_root
browser="$here/../browser"
if ! command -v node >/dev/null 2>&1 || [ ! -x /usr/bin/chromium ]; then
	echo "SKIP: node or /usr/bin/chromium not installed"
	exit 77
fi
if [ ! -f "$browser/node_modules/playwright-core/package.json" ]; then
	(cd "$browser" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund) ||
		{ echo "FAIL: npm ci"; exit 1; }
fi
tmp=$(mktemp -d /tmp/browser-pair.XXXXXX)
trap 'lab_cleanup; rm -rf "$tmp"' EXIT

fail() {
	echo "FAIL: $*"
	for f in "$tmp"/*.log; do
		echo "---- $f"
		tail -60 "$f"
	done
	exit 1
}

lab_init || fail "lab setup"
lab_client 1 ei apd || fail "NAT setup"
cat >"$tmp/turnpike.conf" <<CONF
listen = [ "udp:$LAB_SRV1:3478", "tcp:$LAB_SRV1:3478" ];
relay-ip = [ "$LAB_SRV1" ];
realm = "test";
users = ( { name = "alice"; password = "alicepw"; } );
demo-user = false;
log-level = "debug";
CONF
lab_bg pub "$tmp/turnpike.log" "$turnpike" -c "$tmp/turnpike.conf"
for _ in $(seq 50); do
	grep -q listening "$tmp/turnpike.log" 2>/dev/null && break
	sleep 0.1
done
grep -q listening "$tmp/turnpike.log" || fail "turnpike did not start"
lab_wait_stun cli1 "$LAB_SRV1" 3478 || fail "server unreachable from the client"

HOME=$tmp timeout 120 ip netns exec "$LAB_TAG-cli1" node "$browser/webrtc.mjs" \
	--server "$LAB_SRV1:3478:3478" >"$tmp/browser.log" 2>&1
rc=$?
grep -v '^turn' "$tmp/browser.log"
[ $rc -eq 0 ] || fail "browser run (exit $rc)"
grep -q "CREATE-PERMISSION: 403" "$tmp/turnpike.log" && fail "a permission was refused"
echo "PASS"
