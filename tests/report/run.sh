#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# run.sh DC_CLIENT TURNPIKE TURNPIKE_PROBE OUTDIR - the --report pages of real
# runs, opened in headless Chromium (ctest: report/html).
#
# turnpike on 127.0.0.1 (TURN over UDP, TCP, TLS and DTLS, ws: signaling, RFC
# 5780 with 127.0.0.2, loopback peers allowed) serves two dc-clients relaying through it
# (--force-relay, pings, a bulk transfer) and one turnpike-probe --audit run
# (insecure on purpose: loopback peers are allowed). Each writes --json and
# --report; check.mjs opens every page in Debian's /usr/bin/chromium (driven by
# playwright-core, installed with npm ci from package-lock.json; no browser is
# ever downloaded) and compares it with the JSON. Screenshots go to OUTDIR.
#
# Make the documentation's screenshots with the same commands:
#   TP_REPORT_SHOTS=docs tests/report/run.sh build/tools/dc-client/dc-client \
#       build/server/turnpike build/tools/probe/turnpike-probe build/report
# Exit 0 pass, 1 fail, 77 skip (node or chromium missing).
set -uo pipefail

dc=$1 turnpike=$2 probe=$3 outdir=$4
here=$(cd "$(dirname "$0")" && pwd)
chromium=${TP_CHROMIUM:-/usr/bin/chromium}
command -v node >/dev/null || { echo "SKIP: node is not installed (apt-get install nodejs npm)"; exit 77; }
[ -x "$chromium" ] || { echo "SKIP: $chromium is not installed (apt-get install chromium)"; exit 77; }
if [ ! -f "$here/node_modules/playwright-core/package.json" ]; then
	command -v npm >/dev/null || { echo "FAIL: npm is needed to install playwright-core"; exit 1; }
	echo "installing playwright-core (npm ci)"
	(cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund) || exit 1
fi
if [ -n "${TP_REPORT_SHOTS:-}" ]; then
	TP_REPORT_SHOTS=$(cd "$TP_REPORT_SHOTS" && pwd) || exit 1
	export TP_REPORT_SHOTS
fi

mkdir -p "$outdir" || exit 1
outdir=$(cd "$outdir" && pwd)
tmp=$(mktemp -d /tmp/tp-report.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	for f in "$tmp"/*.err "$tmp"/*.log; do [ -f "$f" ] && { echo "---- $f"; tail -40 "$f"; }; done
	exit 1
}

# A UDP+TCP port p with p+1 free too (RFC 5780's other port), p+2 for TLS and
# DTLS (and its p+3), p+4 for the signaling.
read -r port tport wport < <(python3 - <<'EOF'
import socket
def free(p, kinds):
    for k in kinds:
        s = socket.socket(socket.AF_INET, k)
        try:
            s.bind(("127.0.0.1", p))
        except OSError:
            return False
        finally:
            s.close()
    return True
got = []
for _ in range(500):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]; s.close()
    if p < 65000 and all(free(q, (socket.SOCK_DGRAM, socket.SOCK_STREAM)) for q in range(p, p + 5)):
        print(p, p + 2, p + 4)
        break
EOF
)
[ -n "${port:-}" ] || fail "no free ports"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-keyout "$tmp/key.pem" -out "$tmp/cert.pem" -subj "/CN=turnpike-report" \
	-addext "subjectAltName=IP:127.0.0.1" 2>/dev/null || fail "openssl req"
cat >"$tmp/tp.conf" <<EOF
listen = [ "udp:127.0.0.1:$port", "tcp:127.0.0.1:$port", "tls:127.0.0.1:$tport",
           "dtls:127.0.0.1:$tport", "ws:127.0.0.1:$wport" ];
tls-cert = "$tmp/cert.pem";
tls-key = "$tmp/key.pem";
relay-ip = [ "127.0.0.1" ];
users = ( { name = "alice"; password = "secret"; } );
allowed-peer = [ "127.0.0.0/8" ];
nat-discovery = true;
other-ip = [ "127.0.0.2" ];
EOF
"$turnpike" -c "$tmp/tp.conf" >"$tmp/turnpike.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
	grep -q listening "$tmp/turnpike.log" 2>/dev/null && break
	sleep 0.1
done
grep -q listening "$tmp/turnpike.log" || fail "turnpike did not start"

url="ws://127.0.0.1:$wport/report"
a="--turn 127.0.0.1:$port --user alice --pass secret --force-relay --expect relay --bind 127.0.0.1 --json --timeout 30 --pings 10"
# shellcheck disable=SC2086
"$dc" offer --signal "$url" $a --bulk 1000000 --report "$tmp/dc-offer.html" \
	>"$tmp/dc-offer.json" 2>"$tmp/offer.err" &
op=$!
pids+=("$op")
# shellcheck disable=SC2086
"$dc" answer --signal "$url" $a --report "$tmp/dc-answer.html" \
	>"$tmp/dc-answer.json" 2>"$tmp/answer.err" &
ap=$!
pids+=("$ap")
orc=0 arc=0
wait "$op" || orc=$?
wait "$ap" || arc=$?
[ "$orc" = 0 ] && [ "$arc" = 0 ] || fail "dc-client exit offer=$orc answer=$arc (want 0 0)"

prc=0
"$probe" --json --skip-lifetime --audit --user alice --pass secret --ports "$port,$tport" \
	--report "$tmp/probe.html" "127.0.0.1:$port" >"$tmp/probe.json" 2>"$tmp/probe.err" || prc=$?
[ "$prc" = 3 ] || fail "turnpike-probe exit $prc (want 3: works, loopback peers allowed = insecure)"

cp "$tmp"/*.html "$tmp"/*.json "$outdir"/
cd "$here" || exit 1
node check.mjs "$outdir" dc "$tmp/dc-offer.json" "$tmp/dc-offer.html" \
	dc "$tmp/dc-answer.json" "$tmp/dc-answer.html" probe "$tmp/probe.json" "$tmp/probe.html"
