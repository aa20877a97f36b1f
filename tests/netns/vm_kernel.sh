#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# tests/netns/vm_kernel.sh - the kernel offload on the oldest kernel it claims.
# Boots Debian 12's 6.1 kernel (fetched by tools/old-kernel.sh) under qemu with
# a small initramfs that holds the offload test, its driver and the few tools
# the driver uses, copied from this machine with their shared libraries, and
# runs the same real-packet test as netns/offload inside: 6.1's verifier loads
# the program, cls_bpf attaches it (6.1 has no tcx), and packets cross veth
# pairs between three namespaces.
#
#   vm_kernel.sh OFFLOAD_TEST       (exit 0 pass, 1 fail, 77 skip)
#
# Software emulation (TCG) by default: it works everywhere, KVM does not (on
# the CI machines /dev/kvm exists but a nested guest never starts).
# TP_VM_ACCEL=kvm uses KVM. Nothing leaves the VM: it has no network device.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
prog=${1:?usage: vm_kernel.sh OFFLOAD_TEST}
cache=$("$top/tools/old-kernel.sh" --dir)

for t in qemu-system-x86_64 python3; do
	command -v "$t" >/dev/null || { echo "SKIP: $t not installed (tools/deps.sh --test)"; exit 77; }
done
if [ ! -s "$cache/vmlinuz" ] || [ ! -s "$cache/cls_bpf.ko" ]; then
	echo "SKIP: no 6.1 kernel in $cache (run tools/old-kernel.sh; tools/deps.sh --test does)"
	exit 77
fi
tmp=$(mktemp -d /tmp/tp-vm.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
mkdir -p "$root"/{bin,m,t,proc,sys,dev,run,tmp,etc} && ln -s ../run "$root/var" 2>/dev/null ||
	{ mkdir -p "$root/var"; ln -s ../run "$root/var/run"; }

# A binary and every shared object it needs, at the paths the loader expects.
copy_with_libs() {
	local f=$1 dest=$2 l
	cp -L "$f" "$root/$dest"
	for l in $(ldd "$f" 2>/dev/null | awk '/=> \//{print $3} /^\t\/lib/{print $1}'); do
		[ -e "$root$l" ] && continue
		mkdir -p "$root$(dirname "$l")"
		cp -L "$l" "$root$l"
	done
}
for b in bash ip tc timeout id dirname sleep cat mkdir mount insmod sysctl uname; do
	p=$(command -v "$b") || { echo "SKIP: $b not found"; exit 77; }
	copy_with_libs "$p" "bin/$b"
done
copy_with_libs "$prog" t/offload_test
cp "$here/offload_test.sh" "$here/lib.sh" "$root/t/"
cp "$cache"/*.ko "$root/m/"
[ -n "${TP_OFFLOAD_VERBOSE:-}" ] && : >"$root/t/verbose"   # libbpf's log (verifier) too
cat >"$root/init" <<'INIT'
#!/bin/bash
export PATH=/bin
mount -t proc proc /proc && mount -t sysfs sys /sys && mount -t devtmpfs dev /dev &&
	mount -t tmpfs run /run && mount -t tmpfs tmp /tmp
ip link set lo up
for m in veth sch_ingress cls_bpf; do insmod /m/$m.ko || echo "VM: insmod $m failed"; done
echo "VM-KERNEL: $(uname -r)"
[ -e /t/verbose ] && export TP_OFFLOAD_VERBOSE=1
bash /t/offload_test.sh /t/offload_test
echo "VM-RESULT: rc=$?"
echo o >/proc/sysrq-trigger
sleep 30
INIT
chmod +x "$root/init"

# newc cpio, written here so that /dev/console can be a device node without
# root and no cpio tool is needed
python3 - "$root" "$tmp/initrd" <<'PY'
import os, stat, sys
root, out = sys.argv[1], sys.argv[2]
ino = [1]
def hdr(name, mode, size, rdev=(0, 0), nlink=1):
    ino[0] += 1
    n = name.encode() + b"\0"
    h = b"070701" + b"".join(b"%08X" % v for v in (ino[0], mode, 0, 0, nlink, 0, size,
        0, 0, rdev[0], rdev[1], len(n), 0))
    h += n
    return h + b"\0" * (-len(h) % 4)
with open(out, "wb") as o:
    for d, dirs, files in os.walk(root):
        for name in sorted(dirs) + sorted(files):
            p = os.path.join(d, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                data = os.readlink(p).encode()
            elif stat.S_ISDIR(st.st_mode):
                data = b""
            else:
                data = open(p, "rb").read()
            o.write(hdr(rel, st.st_mode, len(data), nlink=2 if data == b"" and stat.S_ISDIR(st.st_mode) else 1))
            o.write(data + b"\0" * (-len(data) % 4))
    o.write(hdr("dev/console", stat.S_IFCHR | 0o600, 0, rdev=(5, 1)))
    o.write(hdr("TRAILER!!!", 0, 0))
PY

accel=(-accel tcg -cpu max)
limit=150
if [ "${TP_VM_ACCEL:-tcg}" = kvm ]; then
	accel=(-accel kvm -cpu host)
	limit=60
fi
timeout "$limit" qemu-system-x86_64 "${accel[@]}" -m 1024 -smp 2 -nodefaults -no-reboot \
	-display none -serial stdio -kernel "$cache/vmlinuz" -initrd "$tmp/initrd" \
	-append "console=ttyS0 panic=-1 quiet loglevel=3" </dev/null >"$tmp/console.log" 2>&1
qrc=$?
tr -d '\r' <"$tmp/console.log" | grep -v '^$'
rc=$(tr -d '\r' <"$tmp/console.log" | sed -n 's/^VM-RESULT: rc=\([0-9]*\)$/\1/p' | tail -1)
if [ -z "$rc" ]; then
	echo "FAIL: the VM ended without a result (qemu exit $qrc, accel ${accel[1]})"
	exit 1
fi
# inside the VM the test runs as root with the offload built in: a skip
# there means 6.1 could not load or attach the program, which is a failure
[ "$rc" = 0 ] && echo "ok   offload test passed on $(cat "$cache/version") (${accel[1]})"
[ "$rc" = 0 ] || { echo "FAIL: offload test exit $rc on $(cat "$cache/version")"; exit 1; }
exit 0
