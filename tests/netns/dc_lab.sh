#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# tests/netns/dc_lab.sh - dc-client through NATs of known behaviour (lib.sh),
# with turnpike (TURN + ws: signaling) on the lab's "public" segment.
#
#   dc_lab.sh SCENARIO DC_CLIENT TURNPIKE TP_SIGNAL
#
#   a  endpoint-independent NAT on both sides     -> direct (host or srflx)
#      (a-stun: the same with a STUN server only, no TURN)
#   b  address-and-port-dependent NAT both sides   -> relay through turnpike
#   c  client 1 may only use TCP 443 (+ the signaling port) towards the
#      server, no UDP at all -> relay over TURN/TCP on 443 (TLS once served)
#   d  --force-relay on an open path               -> relay
#   e  signaling killed after the channel opened   -> the pings go on
#
# Each prints both peers' RTT and throughput. Exit 0 pass, 1 fail, 77 skip.
# The lab (namespaces, processes) is removed on exit, pass or fail.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

scenario=$1 dc=$2 turnpike=$3 sig=$4
lab_require_root
tmp=$(mktemp -d /tmp/dc-lab.XXXXXX)
trap 'lab_cleanup; rm -rf "$tmp"' EXIT

fail() {
	echo "FAIL ($scenario): $*"
	for f in "$tmp"/*.log; do
		echo "---- $f"
		cat "$f"
	done
	exit 1
}

lab_init || fail "lab setup"
case "$scenario" in
a | a-stun | c | c-tcp | d | e) lab_client 1 ei ei && lab_client 2 ei ei || fail "NAT setup" ;;
b) lab_client 1 apd apd && lab_client 2 apd apd || fail "NAT setup" ;;
*) echo "unknown scenario $scenario"; exit 2 ;;
esac

if [ "$scenario" = c ] || [ "$scenario" = c-tcp ]; then
	# Client 1's network lets only TCP to 443 and the signaling port out.
	lab_exec nat1 nft insert rule ip lab c_fwd iifname lan meta l4proto udp drop ||
		fail "firewall"
	lab_exec nat1 nft insert rule ip lab c_fwd iifname lan tcp dport != { 443, 8080 } drop ||
		fail "firewall"
fi

# A self-signed certificate for the server's address; the clients trust it.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-keyout "$tmp/key.pem" -out "$tmp/cert.pem" -subj "/CN=turnpike-lab" \
	-addext "subjectAltName=IP:$LAB_SRV1" 2>/dev/null || fail "openssl req"
cat >"$tmp/turnpike.conf" <<CONF
listen = [ "udp:$LAB_SRV1:3478", "tls:$LAB_SRV1:443", "ws:$LAB_SRV1:8080" ];
tls-cert = "$tmp/cert.pem";
tls-key = "$tmp/key.pem";
relay-ip = [ "$LAB_SRV1" ];
users = ( { name = "alice"; password = "s3cret"; } );
# the peers' public (NAT) and private addresses are TEST-NET and 10/8 here;
# relay-to-relay (scenario d) needs nothing: the default policy opens a peer
# that is one of our relay addresses on a live allocation's port
allowed-peer = [ "198.51.100.0/24", "10.0.0.0/8" ];
log-level = "info";
CONF
lab_bg pub "$tmp/turnpike.log" "$turnpike" -c "$tmp/turnpike.conf"
url="ws://$LAB_SRV1:8080/lab-$scenario"
if [ "$scenario" = e ]; then
	lab_bg pub "$tmp/signal.log" "$sig" --listen "$LAB_SRV2:8080"
	sigpid=$LAB_LAST_PID
	url="ws://$LAB_SRV2:8080/lab-e"
fi
for _ in $(seq 50); do
	grep -q listening "$tmp/turnpike.log" 2>/dev/null && break
	sleep 0.1
done
grep -q listening "$tmp/turnpike.log" || fail "turnpike did not start"
sleep 0.2

turn1="--turn $LAB_SRV1:3478 --user alice --pass s3cret"
turn2=$turn1
common="--json --timeout 40 --pings 10"
case "$scenario" in
a) o1="--expect direct --bulk 2000000"; o2="--expect direct" ;;
a-stun)
	turn1="--stun $LAB_SRV1:3478"; turn2=$turn1
	o1="--expect direct --bulk 2000000"; o2="--expect direct"
	;;
b) o1="--expect relay --bulk 2000000"; o2="--expect relay" ;;
c)
	turn1="--turn $LAB_SRV1:443 --turn-transport tls --turn-ca $tmp/cert.pem --user alice --pass s3cret"
	o1="--expect relay --bulk 2000000"; o2="--expect relay"
	;;
c-tcp)
	turn1="--turn $LAB_SRV1:443 --turn-transport tcp --user alice --pass s3cret"
	o1="--expect relay --bulk 2000000"; o2="--expect relay"
	;;
d) o1="--force-relay --expect relay --bulk 2000000"; o2="--force-relay --expect relay" ;;
e)
	common="--json --timeout 40 --pings 20 --ping-interval 20 --pause 1500"
	o1="--expect direct"; o2="--expect direct"
	;;
esac
# shellcheck disable=SC2086
lab_bg cli1 "$tmp/offer.log" "$dc" offer --signal "$url" $turn1 $common $o1
p1=$LAB_LAST_PID
# shellcheck disable=SC2086
lab_bg cli2 "$tmp/answer.log" "$dc" answer --signal "$url" $turn2 $common $o2
p2=$LAB_LAST_PID

if [ "$scenario" = e ]; then
	for _ in $(seq 200); do
		grep -q "channel open" "$tmp/offer.log" && grep -q "channel open" "$tmp/answer.log" && break
		sleep 0.05
	done
	grep -q "channel open" "$tmp/offer.log" && grep -q "channel open" "$tmp/answer.log" ||
		fail "the channel did not open"
	kill "$sigpid"
	echo "signaling killed after the channel opened"
fi

rc1=0 rc2=0
wait "$p1" || rc1=$?
wait "$p2" || rc2=$?
grep '^{' "$tmp/offer.log" >"$tmp/offer.json" || true
grep '^{' "$tmp/answer.log" >"$tmp/answer.json" || true
[ "$rc1" = 0 ] && [ "$rc2" = 0 ] || fail "exit offer=$rc1 answer=$rc2 (want 0 0)"

check() { # check ROLE PYTHON-EXPR
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' \
		"$tmp/$1.json" "$2" || fail "$1: $2"
}
for r in offer answer; do
	check "$r" 'j["rtt_ms"]["received"] == j["rtt_ms"]["sent"] > 0'
	case "$scenario" in
	a | a-stun | e) check "$r" 'j["path"] == "direct" and j["selected"]["local"]["type"] in ("host", "srflx", "prflx")' ;;
	b | c | c-tcp | d) check "$r" 'j["path"] == "relay"' ;;
	esac
	[ "$scenario" = e ] && check "$r" 'j["signaling_lost_after_open"]'
	[ "$scenario" = a-stun ] && check "$r" 'j["candidates"]["srflx"] >= 1 and j["candidates"]["relay"] == 0'
	[ "$scenario" = d ] && check "$r" 'j["candidates"]["host"] == 0 and j["candidates"]["srflx"] == 0'
done
# Why the path won: the selected pair is one of the checks seen, it answered,
# and the report says so; with symmetric NATs (b) the direct pairs failed and
# each failure is explained.
for r in offer answer; do
	check "$r" '[c["outcome"] for c in j["checks"] if c["selected"]] == ["succeeded"] and " won: " in j["why"]'
	[ "$scenario" = b ] && check "$r" 'any(c["outcome"] != "succeeded" and c["via"] is None and c["how"] for c in j["checks"]) and " failed: " in j["why"]'
done
[ "$scenario" = c ] && check offer 'j["selected"]["local"]["type"] == "relay" and j["selected"]["local"]["transport"] == "tls"'
[ "$scenario" = c-tcp ] && check offer 'j["selected"]["local"]["type"] == "relay" and j["selected"]["local"]["transport"] == "tcp"'
if [ "$scenario" = c ]; then
	grep -q "allocation created.*\[tls " "$tmp/turnpike.log" || fail "no allocation over TLS in the server log"
fi

for r in offer answer; do
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); r=j["rtt_ms"]; b=j["bulk"]; s=j["selected"]
print("%-6s path=%s local=%s/%s remote=%s/%s rtt min/avg/p95 %s/%s/%s ms, throughput %s, open after %s ms" % (
 sys.argv[2], j["path"], s["local"]["type"], s["local"]["transport"], s["remote"]["type"],
 s["remote"]["transport"], r["min"], r["avg"], r["p95"],
 "%.1f Mbit/s" % b["mbit_s"] if b else "-", j["times_ms"]["open"]))' "$tmp/$r.json" "$r"
done
for r in offer answer; do
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print("%-6s why: %s" % (sys.argv[2], j["why"]))' "$tmp/$r.json" "$r"
done
echo "---- the offerer's progress"
grep -v '^{' "$tmp/offer.log"
if [ -n "${DC_LAB_VERBOSE:-}" ]; then
	echo "---- the answerer's progress"
	grep -v '^{' "$tmp/answer.log"
fi
echo "PASS: scenario $scenario"
