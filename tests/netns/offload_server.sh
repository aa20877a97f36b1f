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
lab_relay3 || { echo "FAIL: namespaces and veths"; exit 1; }
ip -n "$peer" addr add 203.0.113.3/24 dev p0

timeout 28 python3 "$here/offload_server.py" "$bin" "$mode" "$srv" "$cli" "$peer"
rc=$?
[ $rc = 124 ] && echo "FAIL: timed out"
exit $rc
