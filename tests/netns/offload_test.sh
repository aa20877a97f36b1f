#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# tests/netns/offload_test.sh - the kernel datapath with real packets: client,
# server and peer in their own namespaces joined by two veth pairs (see
# offload_test.c for the topology and the cases). The server namespace has no
# forwarding, so nothing reaches the peer unless the relay sends it.
#
#   offload_test.sh OFFLOAD_TEST      (exit 0 pass, 1 fail, 77 skip)
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

prog=$1
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: the kernel datapath needs root (BPF, TC, network namespaces)"
	exit 77
fi
command -v ip >/dev/null || { echo "SKIP: ip not installed (apt-get install iproute2)"; exit 77; }
trap lab_cleanup EXIT
trap 'exit 130' INT TERM
lab_ns srv && lab_ns cli && lab_ns peer || { echo "FAIL: namespaces"; exit 1; }
srv=$LAB_TAG-srv cli=$LAB_TAG-cli peer=$LAB_TAG-peer
ip link add c0 netns "$cli" type veth peer name s0 netns "$srv" &&
	ip link add p0 netns "$peer" type veth peer name s1 netns "$srv" || { echo "FAIL: veth"; exit 1; }
ip -n "$cli" addr add 198.51.100.2/24 dev c0
ip -n "$cli" addr add 2001:db8:1::2/64 dev c0 nodad
ip -n "$srv" addr add 198.51.100.1/24 dev s0
ip -n "$srv" addr add 2001:db8:1::1/64 dev s0 nodad
ip -n "$srv" addr add 203.0.113.1/24 dev s1
ip -n "$srv" addr add 2001:db8:2::1/64 dev s1 nodad
ip -n "$peer" addr add 203.0.113.2/24 dev p0
ip -n "$peer" addr add 2001:db8:2::2/64 dev p0 nodad
for l in "$cli c0" "$srv s0" "$srv s1" "$peer p0"; do
	set -- $l
	ip -n "$1" link set "$2" up
done
# a listener address on lo, as in lib.sh's lab (offload_test.c lo_listener)
ip -n "$srv" addr add 192.0.2.1/32 dev lo
ip -n "$cli" route add 192.0.2.1/32 via 198.51.100.1
lab_sysctl srv net.ipv4.ip_forward=0
lab_sysctl srv net.ipv6.conf.all.forwarding=0

timeout 60 ip netns exec "$srv" "$prog" "$srv" "$cli" "$peer"
rc=$?
# whatever the program did, nothing of it may be left on the server's links
left=$(ip netns exec "$srv" tc filter show dev s0 ingress 2>/dev/null; ip netns exec "$srv" tc filter show dev s1 ingress 2>/dev/null)
if [ -n "$left" ]; then
	echo "FAIL: filters left behind:"
	echo "$left"
	exit 1
fi
exit $rc
