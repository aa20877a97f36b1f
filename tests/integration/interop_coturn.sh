#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# interop_coturn.sh TURNPIKE - coturn's client utilities (never its server)
# against turnpike on 127.0.0.1: turnutils_stunclient; turnutils_uclient over UDP
# with channels and with Send indications, a static user and REST credentials,
# and 50 concurrent clients, relaying to turnutils_peer. uclient exits 0 even when
# it fails, so its output is checked: tot_send_msgs == tot_recv_msgs > 0 and no
# error line. Exit 77 (skip) only when the coturn utilities are not installed.
set -u

BIN=${1:?usage: interop_coturn.sh /path/to/turnpike}
for t in turnutils_uclient turnutils_peer turnutils_stunclient timeout; do
	if ! command -v "$t" >/dev/null 2>&1; then
		echo "SKIP: $t not installed (Debian package coturn)"
		exit 77
	fi
done

DIR=$(mktemp -d /tmp/tpinterop-XXXXXX)
SPID=
PPID_=
FAIL=0

cleanup() {
	[ -n "$PPID_" ] && kill "$PPID_" 2>/dev/null
	if [ -n "$SPID" ]; then
		kill "$SPID" 2>/dev/null
		wait "$SPID" 2>/dev/null
	fi
	rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

# a free UDP port on 127.0.0.1
free_port() {
	python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

PORT=$(free_port)
PEERPORT=$(free_port)
# 50 clients x 2 allocations (RTP + RTCP) a run, lifetimes capped at 60 s:
# 400 ports, in a band the C tests (harness.c: 20000-28999) never use, one half
# per variant so that ctest -j2 runs both side by side
case "$BIN" in
*-san) MINP=29500 ;;
*) MINP=29000 ;;
esac
MAXP=$((MINP + 399))
SECRET=interop-rest-secret

cat >"$DIR/turnpike.conf" <<EOF
listen = ["udp:127.0.0.1:$PORT"];
relay-ip = ["127.0.0.1"];
min-port = $MINP;
max-port = $MAXP;
realm = "interop";
log-level = "info";
users = ( { name = "ninefingers"; password = "youhavetoberealistic"; } );
static-auth-secret = ["$SECRET"];
allowed-peer = ["127.0.0.0/8"];
# turnutils_uclient draws channel numbers from RFC 5766's 0x4000-0x7FFF; RFC 8656
# narrowed the range to 0x4FFF, so the server accepts the old one only when asked.
legacy-channels = true;
default-lifetime = 60;
max-lifetime = 60;
user-quota = 0;
unauth-rate = 0;
# RFC 5780 for turnutils_stunclient -f (second address 127.0.0.2, port PORT+1)
nat-discovery = true;
other-ip = ["127.0.0.2"];
EOF

"$BIN" -c "$DIR/turnpike.conf" 2>"$DIR/server.log" &
SPID=$!
turnutils_peer -L 127.0.0.1 -p "$PEERPORT" >"$DIR/peer.log" 2>&1 &
PPID_=$!

# wait until the server answers (stunclient doubles as the readiness probe)
i=0
until timeout 2 turnutils_stunclient -p "$PORT" 127.0.0.1 >"$DIR/stun.log" 2>&1 &&
	grep -q "UDP reflexive addr" "$DIR/stun.log"; do
	i=$((i + 1))
	if [ $i -ge 25 ] || ! kill -0 "$SPID" 2>/dev/null; then
		echo "FAIL: turnpike did not answer turnutils_stunclient"
		cat "$DIR/stun.log" "$DIR/server.log"
		exit 1
	fi
	sleep 0.2
done

fail() {
	echo "FAIL: $*"
	FAIL=1
}

# ---- turnutils_stunclient ----
timeout 10 turnutils_stunclient -p "$PORT" 127.0.0.1 >"$DIR/stun.log" 2>&1
cat "$DIR/stun.log"
grep -q "UDP reflexive addr: 127.0.0.1:" "$DIR/stun.log" || fail "stunclient: no reflexive address"
if grep -qi "error" "$DIR/stun.log"; then fail "stunclient printed an error"; fi
# -f: RFC 5780 behaviour tests; the third carries CHANGE-REQUEST and 1,500
# bytes of PADDING, whose answer (as large as the request) must come back too
timeout 10 turnutils_stunclient -f -p "$PORT" 127.0.0.1 >"$DIR/stun5780.log" 2>&1
cat "$DIR/stun5780.log"
for k in 1 2 3; do
	sed -n "/RFC 5780 response $k\$/,/reflexive/p" "$DIR/stun5780.log" | grep -q "Response origin" ||
		fail "stunclient -f: no RFC 5780 response $k"
done

# ---- turnutils_uclient ----
# run NAME ARGS...: asserts every message sent came back and no error line
run_uclient() {
	name=$1
	shift
	log="$DIR/uclient-$name.log"
	timeout 60 turnutils_uclient -p "$PORT" -e 127.0.0.1 -r "$PEERPORT" -X "$@" 127.0.0.1 \
		>"$log" 2>&1
	rc=$?
	sent=$(sed -n 's/.*tot_send_msgs=\([0-9]*\).*/\1/p' "$log" | tail -n 1)
	recv=$(sed -n 's/.*tot_recv_msgs=\([0-9]*\).*/\1/p' "$log" | tail -n 1)
	echo "uclient $name: exit $rc, sent ${sent:-?}, received ${recv:-?}"
	if [ $rc -ne 0 ]; then
		fail "uclient $name: exit status $rc"
		tail -n 30 "$log"
		return
	fi
	if [ -z "$sent" ] || [ -z "$recv" ] || [ "$sent" -eq 0 ] || [ "$sent" -ne "$recv" ]; then
		fail "uclient $name: sent ${sent:-?} received ${recv:-?}"
		tail -n 30 "$log"
	fi
	# A retransmitted Refresh(0) that arrives after the deletion gets 437, which
	# RFC 8656 §7.3 tells the client to take as success; uclient prints it
	# anyway. Every other error line fails the run (the counts above prove that
	# no allocation was lost to it).
	if grep -Ei "error|cannot|failure|wrong" "$log" |
		grep -v "error 437 (Allocation Mismatch" >"$DIR/err.txt"; then
		fail "uclient $name printed errors:"
		head -n 10 "$DIR/err.txt"
	fi
}

USER=ninefingers
PASS=youhavetoberealistic
run_uclient channels -u "$USER" -w "$PASS" -n 20 -l 120
run_uclient send-ind -u "$USER" -w "$PASS" -n 20 -l 120 -s
run_uclient dont-fragment -u "$USER" -w "$PASS" -n 10 -g -s
run_uclient rest-channels -u restuser -W "$SECRET" -n 20
run_uclient rest-send-ind -u restuser -W "$SECRET" -n 20 -s
run_uclient many-clients -u "$USER" -w "$PASS" -m 50 -n 10 -l 100
run_uclient many-clients-send-ind -u "$USER" -w "$PASS" -m 50 -n 10 -l 100 -s

if grep -E "ERROR: AddressSanitizer|runtime error:| E " "$DIR/server.log" >"$DIR/err.txt"; then
	fail "server log has errors:"
	head -n 20 "$DIR/err.txt"
fi

# graceful stop: exit 0
kill -TERM "$SPID"
wait "$SPID"
src=$?
SPID=
[ $src -eq 0 ] || fail "turnpike exited with $src after SIGTERM"
if grep -E "ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:" "$DIR/server.log"; then
	fail "sanitizer report in the server log"
fi
if [ $FAIL -ne 0 ]; then
	echo "---- server log (last 40 lines) ----"
	tail -n 40 "$DIR/server.log"
	exit 1
fi
echo "PASS"
exit 0
