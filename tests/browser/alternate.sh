#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# alternate.sh TURNPIKE TURNPIKECTL - browser/alternate as ctest runs it.
# libwebrtc refuses to follow a 300 Try Alternate to a loopback address
# (crbug.com/649118), so the test runs in a network namespace of its own with
# a veth carrying 198.51.100.2 (a documentation address) for node 2; node 1
# and Chromium's TURN URL use 127.0.0.1 there. Chromium gathers nothing in a
# namespace with only lo, hence the veth; its other end sits, addressless, in
# a second namespace. Nothing leaves the two, which the trap removes. Skips (77) when not root, as run.sh does without node/chromium.
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null 2>&1; then
	echo "SKIP: needs root and ip (a network namespace for the alternate node)"
	exit 77
fi
# playwright-core is installed here, outside the namespace (the registry is
# not reachable from inside it); run.sh would try to, and fail, in there
if [ ! -f "$here/node_modules/playwright-core/package.json" ] && command -v npm >/dev/null 2>&1; then
	echo "installing playwright-core (npm ci)"
	(cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund) || exit 1
fi
ns=tpalt$$
sink=tpalts$$
home=$(mktemp -d /tmp/tp-browser-alt-home.XXXXXX) || exit 1
trap 'ip netns del "$ns" 2>/dev/null; ip netns del "$sink" 2>/dev/null; rm -rf "$home"' EXIT
ip netns add "$ns" || exit 1
ip netns add "$sink" || exit 1
ip -n "$ns" link set lo up || exit 1
ip -n "$ns" link add v0 type veth peer name v1 netns "$sink" || exit 1
ip -n "$ns" addr add 198.51.100.2/24 dev v0 || exit 1
ip -n "$sink" link set v1 up || exit 1
ip -n "$ns" link set v0 up || exit 1
HOME=$home TP_ALT_ADDR=198.51.100.2 timeout -k 5 80 ip netns exec "$ns" \
	sh "$here/run.sh" "$1" alternate.mjs "$2"
