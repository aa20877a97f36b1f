#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# dc_loopback.sh - two dc-clients on 127.0.0.1 through a signaling server.
#
#   dc_loopback.sh SCENARIO DC_CLIENT TP_SIGNAL TURNPIKE
#
# Scenarios:
#   direct     host candidates, --expect direct, through tp-signal
#   relay      --force-relay through turnpike (which also serves the signaling
#              on a ws: listener), --expect relay
#   sigkill    the signaling server is killed once both channels are open;
#              the pings that follow must all be answered
#   badauth    a wrong TURN password: exit 1 naming the TURN allocation and 401
#   tls        one peer relays over TURN/TLS (certificate checked against the
#              test CA), the other over UDP; without the CA: exit 1 naming
#              the untrusted certificate
#   expect     a direct connection run with --expect relay: exit 2
#   rest       TURN REST API credentials (--turn-secret), relay forced
#   refused    the server's peer policy refuses the peers (denied-peer covers
#              127.0.0.0/8, the relay address; it beats allowed-peer): both
#              exit 1, and each report names the CreatePermission 403 with the
#              server's reason and the peer's trickled relay candidate it was
#              for (one peer over TURN/TLS, the other over UDP)
# Every process started here is killed by PID on exit.
set -euo pipefail

scenario=$1 dc=$2 sig=$3 turnpike=$4
tmp=$(mktemp -d /tmp/dc-loop.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { # $1: udp|tcp
	python3 - "$1" <<'EOF'
import socket, sys
t = socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM
s = socket.socket(socket.AF_INET, t)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
EOF
}

fail() {
	echo "FAIL: $*" >&2
	for f in "$tmp"/*.err "$tmp"/*.out "$tmp"/*.log; do
		[ -f "$f" ] && { echo "---- $f" >&2; cat "$f" >&2; }
	done
	exit 1
}

# json FILE EXPR: evaluates a python expression over the report j.
json() { # json FILE EXPR [ARG]: sys.argv[3] is ARG
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$@"
}

start_signal() {
	"$sig" --listen 127.0.0.1:0 --port-file "$tmp/sigport" 2>"$tmp/signal.log" &
	sigpid=$!
	pids+=("$sigpid")
	for _ in $(seq 50); do
		[ -s "$tmp/sigport" ] && break
		sleep 0.1
	done
	[ -s "$tmp/sigport" ] || fail "tp-signal did not start"
	url="ws://127.0.0.1:$(cat "$tmp/sigport")/room-$scenario"
}

start_turnpike() {
	local tport wport
	tport=$(free_port udp)
	wport=$(free_port tcp)
	tlsport=$(free_port tcp)
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-keyout "$tmp/key.pem" -out "$tmp/cert.pem" -subj "/CN=turnpike-test" \
		-addext "subjectAltName=IP:127.0.0.1" 2>/dev/null || fail "openssl req"
	cat >"$tmp/tp.conf" <<EOF
listen = [ "udp:127.0.0.1:$tport", "ws:127.0.0.1:$wport", "tls:127.0.0.1:$tlsport" ];
tls-cert = "$tmp/cert.pem";
tls-key = "$tmp/key.pem";
relay-ip = [ "127.0.0.1" ];
users = ( { name = "alice"; password = "secret"; } );
static-auth-secret = [ "rest-s3cret" ];
allowed-peer = [ "127.0.0.0/8" ];
${extra_conf:-}
EOF
	"$turnpike" -c "$tmp/tp.conf" >"$tmp/turnpike.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 50); do
		grep -q "listening" "$tmp/turnpike.log" 2>/dev/null && break
		sleep 0.1
	done
	grep -q "listening" "$tmp/turnpike.log" || fail "turnpike did not start"
	url="ws://127.0.0.1:$wport/room-$scenario"
	turn="127.0.0.1:$tport"
}

# run_pair "OFFER ARGS" "ANSWER ARGS": both in the background; sets opid, apid.
run_pair() {
	# shellcheck disable=SC2086
	"$dc" offer --signal "$url" --bind 127.0.0.1 --json --timeout 40 $1 \
		>"$tmp/offer.out" 2>"$tmp/offer.err" &
	opid=$!
	pids+=("$opid")
	# shellcheck disable=SC2086
	"$dc" answer --signal "$url" --bind 127.0.0.1 --json --timeout 40 $2 \
		>"$tmp/answer.out" 2>"$tmp/answer.err" &
	apid=$!
	pids+=("$apid")
}

wait_pair() { # sets orc, arc
	orc=0
	wait "$opid" || orc=$?
	arc=0
	wait "$apid" || arc=$?
}

show() {
	for r in offer answer; do
		echo "$r: $(python3 -c 'import json,sys; j=json.load(open(sys.argv[1]));
r=j["rtt_ms"]; b=j["bulk"]; s=j["selected"] or {}
print("path=%s local=%s remote=%s rtt(min/avg/p95)=%s/%s/%s ms bulk=%s open=%s ms" % (j["path"],
 (s.get("local") or {}).get("type"), (s.get("remote") or {}).get("type"),
 r.get("min"), r.get("avg"), r.get("p95"), "%.1f Mbit/s" % b["mbit_s"] if b else "-",
 j["times_ms"]["open"]))' "$tmp/$r.out")"
	done
}

case "$scenario" in
direct)
	start_signal
	run_pair "--expect direct --pings 10 --bulk 2000000" "--expect direct --pings 10"
	wait_pair
	[ "$orc" = 0 ] && [ "$arc" = 0 ] || fail "exit offer=$orc answer=$arc (want 0 0)"
	json "$tmp/offer.out" 'j["path"]=="direct" and j["rtt_ms"]["received"]==10 and j["bulk"]["bytes"]==2000000' ||
		fail "offer report"
	json "$tmp/answer.out" 'j["path"]=="direct" and j["selected"]["local"]["type"]!="relay"' ||
		fail "answer report"
	for r in offer answer; do
		json "$tmp/$r.out" '[(c["local"]["addr"], c["remote"]["addr"], c["via"], c["outcome"]) for c in j["checks"] if c["selected"]] == [(j["selected"]["local"]["addr"], j["selected"]["remote"]["addr"], None, "succeeded")] and " won: " in j["why"]' ||
			fail "$r: the selected pair among the checks seen, and why it won"
	done
	;;
relay)
	start_turnpike
	a="--turn $turn --user alice --pass secret --force-relay --expect relay"
	run_pair "$a --pings 10 --bulk 2000000" "$a --pings 10"
	wait_pair
	[ "$orc" = 0 ] && [ "$arc" = 0 ] || fail "exit offer=$orc answer=$arc (want 0 0)"
	for r in offer answer; do
		json "$tmp/$r.out" 'j["path"]=="relay" and j["candidates"]["relay"]>=1 and j["candidates"]["host"]==0 and j["rtt_ms"]["received"]==10' ||
			fail "$r report"
		# the checks went through the relay (Send indications): the tap saw them
		json "$tmp/$r.out" '[(c["local"]["type"], c["local"]["addr"], c["remote"]["addr"], c["via"], c["outcome"]) for c in j["checks"] if c["selected"]] == [("relay", j["selected"]["local"]["addr"], j["selected"]["remote"]["addr"], sys.argv[3], "succeeded")] and "won: it answered" in j["why"]' "$turn" ||
			fail "$r: the selected pair among the relayed checks seen, and why it won"
	done
	# the Refresh with LIFETIME 0 left before dc-client exited; a loaded
	# server may still be reading it
	for _ in $(seq 30); do
		grep -q "allocation ended: deleted by client" "$tmp/turnpike.log" && break
		sleep 0.1
	done
	grep -q "allocation ended: deleted by client" "$tmp/turnpike.log" ||
		fail "dc-client did not release its allocations"
	;;
sigkill)
	start_signal
	run_pair "--expect direct --pings 20 --ping-interval 20 --pause 1500" \
		"--expect direct --pings 20 --ping-interval 20 --pause 1500"
	for _ in $(seq 100); do
		if grep -q "channel open" "$tmp/offer.err" && grep -q "channel open" "$tmp/answer.err"; then
			break
		fi
		sleep 0.05
	done
	grep -q "channel open" "$tmp/offer.err" && grep -q "channel open" "$tmp/answer.err" ||
		fail "channels did not open"
	kill "$sigpid"
	wait_pair
	[ "$orc" = 0 ] && [ "$arc" = 0 ] || fail "exit offer=$orc answer=$arc (want 0 0)"
	for r in offer answer; do
		json "$tmp/$r.out" 'j["signaling_lost_after_open"] and j["rtt_ms"]["received"]==20' ||
			fail "$r: pings after signaling loss"
	done
	;;
badauth)
	start_turnpike
	rc=0
	"$dc" offer --signal "$url" --bind 127.0.0.1 --json --timeout 20 --turn "$turn" \
		--user alice --pass wrong --force-relay >"$tmp/offer.out" 2>"$tmp/offer.err" || rc=$?
	[ "$rc" = 1 ] || fail "exit $rc (want 1)"
	json "$tmp/offer.out" '"TURN allocation" in j["error"] and "401" in j["error"]' ||
		fail "error message"
	python3 -c 'import json,sys; print("error:", json.load(open(sys.argv[1]))["error"])' "$tmp/offer.out"
	echo "PASS: badauth"
	exit 0
	;;
tls)
	start_turnpike
	run_pair "--turn 127.0.0.1:$tlsport --turn-transport tls --turn-ca $tmp/cert.pem --user alice --pass secret --force-relay --expect relay --pings 10 --bulk 1000000" \
		"--turn $turn --user alice --pass secret --force-relay --expect relay --pings 10"
	wait_pair
	[ "$orc" = 0 ] && [ "$arc" = 0 ] || fail "exit offer=$orc answer=$arc (want 0 0)"
	json "$tmp/offer.out" 'j["path"]=="relay" and j["selected"]["local"]["transport"]=="tls" and j["rtt_ms"]["received"]==10' ||
		fail "offer report"
	grep -q "allocation created.*\[tls " "$tmp/turnpike.log" || fail "no allocation over TLS"
	show
	rc=0
	"$dc" offer --signal "$url-2" --bind 127.0.0.1 --json --timeout 20 --turn "127.0.0.1:$tlsport" \
		--turn-transport tls --user alice --pass secret --force-relay >"$tmp/offer.out" 2>"$tmp/offer.err" || rc=$?
	[ "$rc" = 1 ] || fail "untrusted certificate: exit $rc (want 1)"
	json "$tmp/offer.out" '"certificate is not trusted" in j["error"]' || fail "untrusted certificate message"
	echo "PASS: tls"
	exit 0
	;;
rest)
	start_turnpike
	a="--turn $turn --turn-secret rest-s3cret --force-relay --expect relay --pings 5"
	run_pair "$a" "$a"
	wait_pair
	[ "$orc" = 0 ] && [ "$arc" = 0 ] || fail "exit offer=$orc answer=$arc (want 0 0)"
	json "$tmp/offer.out" 'j["path"]=="relay" and j["rtt_ms"]["received"]==5' || fail "offer report"
	grep -q "user=[0-9]*:dc-client" "$tmp/turnpike.log" || fail "no REST user in the server log"
	;;
refused)
	extra_conf='denied-peer = [ "127.0.0.0/8" ];'
	start_turnpike
	a="--user alice --pass secret --force-relay --expect relay --pings 3 --timeout 30"
	run_pair "--turn 127.0.0.1:$tlsport --turn-transport tls --turn-ca $tmp/cert.pem $a" \
		"--turn $turn $a"
	wait_pair
	[ "$orc" = 1 ] && [ "$arc" = 1 ] || fail "exit offer=$orc answer=$arc (want 1 1)"
	for r in offer answer; do
		srv=$turn
		[ "$r" = offer ] && srv=127.0.0.1:$tlsport
		python3 - "$tmp/$r.out" "$tmp/turnpike.log" "$srv" <<'PY' || fail "$r report"
import json, sys
j = json.load(open(sys.argv[1]))
log = open(sys.argv[2]).read().splitlines()
rc = j["remote_candidates"]
assert rc["relay"] >= 1 and rc["trickled"] >= 1 and rc["total"] == rc["from_sdp"] + rc["trickled"], rc
errs = [e for e in j["turn_errors"] if e["method"] == "CreatePermission" and e["code"] == 403]
assert errs, j["turn_errors"]
e = errs[0]
assert e["server"] == sys.argv[3], e
# the peer named is the address the server refused, one of the peer's relay candidates
assert any("permission for %s refused" % e["peer"] in l for l in log), e
assert e["candidate"] == "the peer's relay candidate " + e["peer"], e
# the reason is the server's own: its log line for that 403 contains it
assert e["reason"] and any("CREATE-PERMISSION: 403" in l and e["reason"] in l for l in log), e
assert "CreatePermission" in j["error"] and "403" in j["error"] and e["reason"] in j["error"], j["error"]
# the pair to that candidate got no answer, and the report says the refusal is why
pairs = [c for c in j["checks"] if c["remote"]["addr"] == e["peer"]]
assert pairs and pairs[0]["outcome"] == "no-answer" and "refused CreatePermission" in pairs[0]["how"], j["checks"]
assert "no pair won" in j["why"] and "refused CreatePermission" in j["why"], j["why"]
print("%s: %s" % (j["role"], j["error"]))
PY
	done
	echo "PASS: refused"
	exit 0
	;;
expect)
	start_signal
	run_pair "--expect relay --pings 3" "--pings 3"
	wait_pair
	[ "$orc" = 2 ] && [ "$arc" = 0 ] || fail "exit offer=$orc answer=$arc (want 2 0)"
	;;
*)
	echo "unknown scenario $scenario" >&2
	exit 2
	;;
esac
show
echo "PASS: $scenario"
