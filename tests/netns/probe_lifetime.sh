#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# tests/netns/probe_lifetime.sh - the probe's binding-lifetime estimate (RFC 5780
# §4.6) against a NAT whose idle UDP mappings expire after 12 s: still alive at
# 10 s, gone at 20 s.
#
#   probe_lifetime.sh TURNPIKE TURNPIKE_PROBE      (exit 0 pass, 1 fail, 77 skip)
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

turnpike=$1 probe=$2
lab_require_root
if ! "$turnpike" --print-config 2>/dev/null | grep -q '^nat-discovery'; then
	echo "SKIP: this turnpike has no nat-discovery option (RFC 5780 server side not built)"
	exit 77
fi
lab_init || { echo "FAIL: lab setup"; exit 1; }
tmp=$(mktemp -d /tmp/tp-netns.XXXXXX)
trap 'lab_cleanup; rm -rf "$tmp"' EXIT
lab_client 1 ei apd || { echo "FAIL: NAT setup"; exit 1; }
lab_nat_udp_timeout 1 12 || { echo "SKIP: cannot set conntrack timeouts in a namespace"; exit 77; }

cat >"$tmp/turnpike.conf" <<CONF
listen = [ "udp:$LAB_SRV1:3478" ];
nat-discovery = true;
other-ip = [ "$LAB_SRV2" ];
users = ( { name = "alice"; password = "s3cret"; } );
demo-user = false;
log-level = "warn";
CONF
lab_bg pub "$tmp/server.log" "$turnpike" -c "$tmp/turnpike.conf"
lab_wait_stun cli1 "$LAB_SRV1" 3478 || { echo "FAIL: no server"; cat "$tmp/server.log"; exit 1; }

lab_cli 1 timeout 80 "$probe" --json --lifetime-max 20 --ports 3478 --user alice --pass s3cret \
	"$LAB_SRV1:3478" >"$tmp/probe.json"
python3 - "$tmp/probe.json" <<'PY'
import json, sys
lt = json.load(open(sys.argv[1]))["nat"]["lifetime"]
print(lt)
ok = lt["status"] == "measured" and lt["alive_s"] == 10 and lt["expired_s"] == 20
print("ok   lifetime: alive at 10 s, expired at 20 s" if ok else "FAIL lifetime estimate")
sys.exit(0 if ok else 1)
PY
