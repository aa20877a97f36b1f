#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# tests/netns/offload_server.sh - turnpike with kernel-offload on or off, with
# real packets: client, server and peer in their own namespaces joined by two
# veth pairs (offload_server.py has the topology and the cases). Removed by the
# trap whatever happens.
#
#   offload_server.sh TURNPIKE on|off|unpriv      (exit 0 pass, 1 fail, 77 skip)
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

bin=$1 mode=$2
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: network namespaces (and the kernel datapath) need root"
	exit 77
fi
for t in ip python3 setpriv turnutils_uclient turnutils_peer timeout; do
	command -v "$t" >/dev/null || { echo "SKIP: $t not installed (iproute2, python3, util-linux, coturn)"; exit 77; }
done
trap lab_cleanup EXIT
trap 'exit 130' INT TERM
lab_ns srv && lab_ns cli && lab_ns peer || { echo "FAIL: namespaces"; exit 1; }
srv=$LAB_TAG-srv cli=$LAB_TAG-cli peer=$LAB_TAG-peer
ip link add c0 netns "$cli" type veth peer name s0 netns "$srv" &&
	ip link add p0 netns "$peer" type veth peer name s1 netns "$srv" || { echo "FAIL: veth"; exit 1; }
ip -n "$cli" addr add 198.51.100.2/24 dev c0
ip -n "$srv" addr add 198.51.100.1/24 dev s0
ip -n "$srv" addr add 203.0.113.1/24 dev s1
ip -n "$peer" addr add 203.0.113.2/24 dev p0
ip -n "$peer" addr add 203.0.113.3/24 dev p0
for l in "$cli c0" "$srv s0" "$srv s1" "$peer p0"; do
	set -- $l
	ip -n "$1" link set "$2" up
done
lab_sysctl srv net.ipv4.ip_forward=0

timeout 28 python3 "$here/offload_server.py" "$bin" "$mode" "$srv" "$cli" "$peer"
rc=$?
[ $rc = 124 ] && echo "FAIL: timed out"
exit $rc
