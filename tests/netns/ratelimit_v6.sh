#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# tests/netns/ratelimit_v6.sh - the unauthenticated-request budget counts an
# IPv6 /64 as one source (source-ipv6-prefix), and one source's flood does not
# silence another. In a namespace of its own: the server on 2001:db8:ff::1, 50
# client addresses in 2001:db8:1::/64 and one in 2001:db8:2::/64, all on the
# namespace's lo (documentation addresses; nothing leaves the namespace).
#
#   ratelimit_v6.sh TURNPIKE
#
# Exit 0 pass, 1 fail, 77 skip (not root).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

turnpike=$1
lab_require_root
tmp=$(mktemp -d /tmp/rl-v6.XXXXXX)
trap 'lab_cleanup; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
lab_ns rl || { echo "FAIL: namespace"; exit 1; }
ns="$LAB_TAG-rl"
ip -n "$ns" -6 addr add 2001:db8:ff::1/128 dev lo nodad
for i in $(seq 1 50); do
	ip -n "$ns" -6 addr add "2001:db8:1::$i/128" dev lo nodad
done
ip -n "$ns" -6 addr add 2001:db8:2::1/128 dev lo nodad
ip -n "$ns" -6 addr add 2001:db8:3::1/128 dev lo nodad
cat >"$tmp/turnpike.conf" <<CONF
listen = [ "udp:[2001:db8:ff::1]:3478" ];
relay-ip = [ "2001:db8:ff::1" ];
workers = 2;
unauth-rate = 1;
unauth-burst = 10;
log-level = "info";
CONF
lab_bg rl "$tmp/turnpike.log" "$turnpike" -c "$tmp/turnpike.conf"
for _ in $(seq 50); do
	grep -q listening "$tmp/turnpike.log" 2>/dev/null && break
	sleep 0.1
done
grep -q listening "$tmp/turnpike.log" || { cat "$tmp/turnpike.log"; echo "FAIL: no start"; exit 1; }

lab_exec rl python3 - <<'PY'
import os, socket, struct, sys, time

SRV = ("2001:db8:ff::1", 3478)

def binding():
    return struct.pack("!HHI12s", 1, 0, 0x2112A442, os.urandom(12))

def flood(addrs, per, sockets=1):
    socks = []
    for a in addrs:
        for _ in range(sockets):
            s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            s.bind((a, 0))
            s.setblocking(False)
            socks.append(s)
    for _ in range(per):
        for s in socks:
            s.sendto(binding(), SRV)
    time.sleep(0.3)
    got = 0
    for s in socks:
        while True:
            try:
                s.recv(2048)
                got += 1
            except BlockingIOError:
                break
        s.close()
    return got

fails = 0
def check(cond, what):
    global fails
    print(("ok: " if cond else "FAILED: ") + what)
    fails += not cond

# 50 addresses of one /64, 5 Bindings each: one budget (burst 10, 1/s)
got = flood(["2001:db8:1::%d" % i for i in range(1, 51)], 5)
check(got <= 12, "one /64 (50 addresses x 5 Bindings) answered as one source: %d <= 12" % got)
# meanwhile another /64 is answered
got2 = flood(["2001:db8:2::1"], 3)
check(got2 == 3, "another /64 is not silenced: %d of 3 answered" % got2)
# one address from 20 ports (spread over both workers): still one budget
got3 = flood(["2001:db8:3::1"], 3, sockets=20)
check(got3 <= 12, "one source over 20 ports and 2 workers: one budget (%d <= 12)" % got3)
sys.exit(1 if fails else 0)
PY
rc=$?
if [ $rc -ne 0 ]; then
	tail -20 "$tmp/turnpike.log"
	echo "FAIL"
	exit 1
fi
echo "PASS"
