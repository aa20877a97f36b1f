#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# tests/netns/cluster_lab.sh - three turnpike nodes sharing one Redis, with
# HAProxy in front of their TCP listeners and clients behind NATs (issue 14).
#
#   [cli1]--NAT ei--+                     pub: node-1 203.0.113.11
#   [cli2]--NAT apd-+--[pub]                   node-2 203.0.113.12
#                                              node-3 203.0.113.13
#                                              redis  203.0.113.20:6379
#                                              haproxy 203.0.113.30:3478 (TCP),
#                                                      :3479 send-proxy-v2
#                                              peer   203.0.113.40 (UDP echo)
#
# The lab (lib.sh) makes the namespaces; cluster_lab.py starts and stops the
# processes and runs the cases. Everything stays in the lab's namespaces,
# which the EXIT trap removes.
#
#   cluster_lab.sh TURNPIKE TURNPIKECTL
# Exit 0 pass, 1 fail, 77 skip (not root, or redis/haproxy missing).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

lab_require_root
for t in redis-server redis-cli haproxy python3; do
	command -v "$t" >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done
tmp=$(mktemp -d /tmp/tp-cluster.XXXXXX)
trap 'lab_cleanup; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM
lab_init || { echo "FAIL: lab"; exit 1; }
for a in 203.0.113.11 203.0.113.12 203.0.113.13 203.0.113.20 203.0.113.30 203.0.113.40; do
	ip -n "$LAB_TAG-pub" addr add "$a/32" dev lo
done
lab_client 1 ei ei || { echo "FAIL: client 1"; exit 1; }
lab_client 2 apd apd || { echo "FAIL: client 2"; exit 1; }
python3 "$here/cluster_lab.py" "$1" "$2" "$LAB_TAG" "$tmp"
