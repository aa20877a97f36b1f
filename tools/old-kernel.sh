#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# tools/old-kernel.sh - fetch Debian 12's kernel (linux-image-6.1.0-*-amd64),
# the oldest kernel the kernel offload claims, for tests/netns/vm_kernel.sh,
# which boots it under qemu and runs the offload test inside. Nothing is
# installed: apt-get download fetches the package, and only the kernel image
# and the three modules the test needs (veth, sch_ingress, cls_bpf) are kept.
#
#   tools/old-kernel.sh           fetch unless already there
#   tools/old-kernel.sh --dir     print where it is kept
#
# Kept in $TP_KERNEL_CACHE (default /var/cache/turnpike/linux-6.1). Idempotent:
# with the files present it does not touch the network. tools/deps.sh --test
# runs it.
set -euo pipefail
cache=${TP_KERNEL_CACHE:-/var/cache/turnpike/linux-6.1}
if [ "${1:-}" = --dir ]; then
	echo "$cache"
	exit 0
fi
[ $# -eq 0 ] || { echo "usage: $0 [--dir]" >&2; exit 2; }
if [ -s "$cache/vmlinuz" ] && [ -s "$cache/cls_bpf.ko" ] && [ -s "$cache/version" ]; then
	echo "old-kernel: $(cat "$cache/version") already in $cache"
	exit 0
fi
# the image Debian 12's linux-image-amd64 points at (6.1.0-N-amd64)
image() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-6\.1\.[0-9]+-[0-9]+-amd64/ {print $2; exit}'
}
pkg=$(image)
if [ -z "$pkg" ] && [ "$(id -u)" = 0 ]; then
	apt-get update -q >/dev/null && pkg=$(image)
fi
if [ -z "$pkg" ]; then
	echo "old-kernel: no linux-image-6.1 package known to apt (is this Debian 12? apt-get update?)" >&2
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# apt-get download drops privileges to _apt, which must be able to write here
if id _apt >/dev/null 2>&1; then chown _apt "$tmp"; fi
(cd "$tmp" && apt-get download -q "$pkg" >/dev/null)
deb=$(ls "$tmp"/*.deb)
kver=${pkg#linux-image-}
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" "./boot/vmlinuz-$kver" \
	"./lib/modules/$kver/kernel/drivers/net/veth.ko" \
	"./lib/modules/$kver/kernel/net/sched/sch_ingress.ko" \
	"./lib/modules/$kver/kernel/net/sched/cls_bpf.ko"
mkdir -p "$cache"
install -m 0644 "$tmp/boot/vmlinuz-$kver" "$cache/vmlinuz"
for m in drivers/net/veth net/sched/sch_ingress net/sched/cls_bpf; do
	install -m 0644 "$tmp/lib/modules/$kver/kernel/$m.ko" "$cache/"
done
echo "$kver $(dpkg-deb -f "$deb" Version)" >"$cache/version"
echo "old-kernel: $(cat "$cache/version") in $cache"
