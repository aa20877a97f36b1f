#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# tests/netns/probe_nat.sh - turnpike-probe classifies a NAT of known behaviour,
# and coturn's turnutils_natdiscovery / turnutils_stunclient (clients nobody
# here wrote) agree, against turnpike in RFC 5780 mode.
#
#   probe_nat.sh MAPPING FILTERING TURNPIKE TURNPIKE_PROBE
#
# MAPPING: none ei ad apd; FILTERING: ei ad apd (see lib.sh). Exit 0 pass,
# 1 fail, 77 skip (not root, or the server lacks nat-discovery).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

map=$1 filt=$2 turnpike=$3 probe=$4
lab_require_root
if ! "$turnpike" --print-config 2>/dev/null | grep -q '^nat-discovery'; then
	echo "SKIP: this turnpike has no nat-discovery option (RFC 5780 server side not built)"
	exit 77
fi

declare -A MAPNAME=([none]=none [ei]=endpoint-independent [ad]=address-dependent
	[apd]=address-and-port-dependent)
declare -A FILTNAME=([ei]=endpoint-independent [ad]=address-dependent
	[apd]=address-and-port-dependent)
declare -A COTURN_MAP=([none]="No NAT!" [ei]="NAT with Endpoint Independent Mapping!"
	[ad]="NAT with Address Dependent Mapping!" [apd]="NAT with Address and Port Dependent Mapping!")
declare -A COTURN_FILT=([ei]="NAT with Endpoint Independent Filtering!"
	[ad]="NAT with Address Dependent Filtering!"
	[apd]="NAT with Address and Port Dependent Filtering!")
want_filt=$filt
[ "$map" = none ] && want_filt=ei       # no NAT, no firewall: everything gets through

fails=0
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then
		echo "ok   $what"
	else
		echo "FAIL $what"
		fails=$((fails + 1))
	fi
}

lab_init || { echo "FAIL: lab setup"; exit 1; }
tmp=$(mktemp -d /tmp/tp-netns.XXXXXX)
trap 'lab_cleanup; rm -rf "$tmp"' EXIT
lab_client 1 "$map" "$filt" || { echo "FAIL: NAT setup"; exit 1; }

cat >"$tmp/turnpike.conf" <<CONF
listen = [ "udp:$LAB_SRV1:3478" ];
nat-discovery = true;
other-ip = [ "$LAB_SRV2" ];
users = ( { name = "alice"; password = "s3cret"; } );
demo-user = false;
# the probe relays to its own second socket: behind the NAT's public address
allowed-peer = [ "198.51.100.0/24", "10.0.0.0/8" ];
log-level = "warn";
CONF
lab_bg pub "$tmp/server.log" "$turnpike" -c "$tmp/turnpike.conf"
if ! lab_wait_stun cli1 "$LAB_SRV1" 3478; then
	echo "FAIL: the server does not answer through the NAT"
	cat "$tmp/server.log"
	exit 1
fi

t0=$(date +%s)
lab_cli 1 timeout 60 "$probe" --json --skip-lifetime --ports 3478 --user alice --pass s3cret \
	"$LAB_SRV1:3478" >"$tmp/probe.json" 2>"$tmp/probe.err"
rc=$?
echo "probe exit $rc in $(($(date +%s) - t0)) s"
lab_cli 1 timeout 60 "$probe" --skip-lifetime --ports 3478 --user alice --pass s3cret \
	"$LAB_SRV1:3478" 2>&1 | sed -n '/Public/,/TURN allocation/p'

nat_ip=198.51.100.10
[ "$map" = none ] && nat_ip=10.0.1.2
check "probe exit code 0 (STUN and TURN over UDP work through the NAT)" test "$rc" = 0
python3 - "$tmp/probe.json" "${MAPNAME[$map]}" "${FILTNAME[$want_filt]}" "$nat_ip" "$map" \
	>"$tmp/check.out" 2>&1 <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
want_map, want_filt, nat_ip, kind = sys.argv[2:6]
nat = doc["nat"]
bad = []
def need(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        bad.append(what)
need(nat["rfc5780"], "RFC 5780 server detected")
need(nat["mapping"]["behavior"] == want_map, "mapping %s (got %s: %s)" % (
    want_map, nat["mapping"]["behavior"], nat["mapping"]["evidence"]))
need(nat["filtering"]["behavior"] == want_filt, "filtering %s (got %s: %s)" % (
    want_filt, nat["filtering"]["behavior"], nat["filtering"]["evidence"]))
b = [x for x in doc["stun"]["bindings"] if x["ok"]]
need(b and all(x["mapped"].split(":")[0] == nat_ip for x in b), "srflx address on %s" % nat_ip)
need(b and all(x["behind_nat"] == (kind != "none") for x in b), "behind_nat flag")
if kind != "none":
    need(nat["hairpinning"]["works"] is False, "no hairpinning (the lab NAT has none)")
udp = [t for t in doc["turn"] if t["transport"] == "udp" and t["port"] == 3478]
need(udp and udp[0]["ok"], "TURN over UDP through the NAT")
need(doc["relay"]["status"] == "ok", "relay to the probe's own socket (%s: %s)" % (
    doc["relay"]["status"], doc["relay"]["note"]))
sys.exit(1 if bad else 0)
PY
check "probe classification (details below)" test $? = 0
cat "$tmp/check.out"

# coturn's clients, each on a fresh socket (so the filtering test has talked only
# to the primary address, as RFC 5780 §4.4 assumes).
if command -v turnutils_natdiscovery >/dev/null; then
	lab_cli 1 timeout 20 turnutils_natdiscovery -m -L 10.0.1.2 "$LAB_SRV1" >"$tmp/nd-m.out" 2>&1
	lab_cli 1 timeout 20 turnutils_natdiscovery -f -L 10.0.1.2 "$LAB_SRV1" >"$tmp/nd-f.out" 2>&1
	if [ "$map" = ad ]; then
		# natdiscovery sends its test III to the OTHER-ADDRESS of test II's answer
		# (the server's alternate of B:P1, i.e. A:P2: RFC 5780 §7.4 makes it
		# relative to the receiving address) instead of test I's B:P2, so with an
		# address-dependent NAT it compares a mapping towards A with one towards B
		# and says "Address and Port Dependent". Check what it saw instead: test II
		# (towards the other IP) mapped to the NAT's second address, like the probe.
		check "turnutils_natdiscovery -m: test II mapped to the NAT's address for $LAB_SRV2" \
			bash -c "sed -n '/response 2/,/response 3/p' '$tmp/nd-m.out' | grep -q 'reflexive addr: 198.51.100.11:'"
	else
		check "turnutils_natdiscovery -m: ${COTURN_MAP[$map]}" grep -qF "${COTURN_MAP[$map]}" "$tmp/nd-m.out"
	fi
	check "turnutils_natdiscovery -f: ${COTURN_FILT[$want_filt]}" \
		grep -qF "${COTURN_FILT[$want_filt]}" "$tmp/nd-f.out"
	grep -E "NAT|Mapping|Filtering" "$tmp/nd-m.out" "$tmp/nd-f.out" | grep -v "^.*: *$" | sort -u
else
	echo "note: coturn's turnutils_natdiscovery not installed: cross-check skipped"
fi
if command -v turnutils_stunclient >/dev/null; then
	lab_cli 1 timeout 10 turnutils_stunclient -f "$LAB_SRV1" >"$tmp/sc.out" 2>&1
	check "turnutils_stunclient -f: reflexive address on $nat_ip, OTHER-ADDRESS $LAB_SRV2" \
		bash -c "grep -q 'reflexive addr: $nat_ip:' '$tmp/sc.out' && grep -q 'Other addr: : $LAB_SRV2:3479' '$tmp/sc.out'"
fi

if [ "$fails" != 0 ]; then
	echo "--- probe.json ---"; cat "$tmp/probe.json"; cat "$tmp/probe.err"
	echo "--- natdiscovery ---"; cat "$tmp"/nd-*.out "$tmp/sc.out" 2>/dev/null | tail -60
	echo "--- server log ---"; cat "$tmp/server.log"
	echo "$fails check(s) failed"
	exit 1
fi
echo "all checks passed"
