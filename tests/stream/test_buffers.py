#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""UDP socket buffers: the listener gets udp-rcvbuf/udp-sndbuf and each relay
socket relay-rcvbuf (relay-sndbuf 0 leaves the kernel default), as the kernel
reports them (ss -m: rb/tb are twice the size granted). As root the sizes pass
net.core.rmem_max (SO_RCVBUFFORCE); otherwise they are capped there and the
start-up log warns. The start-up log states what was granted."""
import os
import re
import shutil
import socket
import subprocess

import tpstream as tp


def skmem(port):
    """{"rb": .., "tb": ..} of the UDP socket bound to 127.0.0.1:port."""
    out = subprocess.run(["ss", "-uamnH", "sport", "= :%d" % port], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT).stdout.decode()
    m = re.search(r"skmem:\(([^)]*)\)", out)
    if not m:
        raise tp.Fail("no socket on port %d in ss output: %r" % (port, out))
    return {k: int(v) for k, v in re.findall(r"([a-z]+)(\d+)", m.group(1))}


def sysctl(name):
    with open("/proc/sys/net/core/" + name) as f:
        return int(f.read())


def expect(size, maxname):
    """What rb/tb should read for a requested size."""
    if os.geteuid() == 0:
        return 2 * size
    return 2 * min(size, sysctl(maxname))


def test(binary):
    if not shutil.which("ss"):
        raise SystemExit(tp.SKIP)
    opts = {"udp-rcvbuf": "1048576", "udp-sndbuf": "786432", "relay-rcvbuf": "262144",
            "relay-sndbuf": "0", "workers": "1"}
    with tp.Server(binary, {"u": "udp"}, opts) as srv:
        lst = skmem(srv.ports["u"])
        tp.check(lst["rb"] == expect(1048576, "rmem_max"),
                 "listener receive buffer: rb %d (udp-rcvbuf 1048576)" % lst["rb"])
        tp.check(lst["tb"] == expect(786432, "wmem_max"),
                 "listener send buffer: tb %d (udp-sndbuf 786432)" % lst["tb"])
        # a UDP allocation, to look at its relay socket
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(2)
        dst = ("127.0.0.1", srv.ports["u"])
        alloc = [(tp.A_REQ_TRANSPORT, b"\x11\0\0\0")]
        s.sendto(tp.encode(tp.ALLOCATE, tp.REQUEST, alloc), dst)
        m = tp.Msg(s.recv(2048))
        realm, nonce = m.get(tp.A_REALM), m.get(tp.A_NONCE)
        attrs = alloc + [(tp.A_USERNAME, tp.USER.encode()), (tp.A_REALM, realm),
                         (tp.A_NONCE, nonce)]
        s.sendto(tp.encode(tp.ALLOCATE, tp.REQUEST, attrs, key=tp.lt_key()), dst)
        m = tp.Msg(s.recv(2048))
        tp.check(m.cls == tp.SUCCESS, "allocated (%r)" % m)
        relay = tp.unxor_addr(m.get(tp.A_XOR_RELAYED))
        rel = skmem(relay[1])
        tp.check(rel["rb"] == expect(262144, "rmem_max"),
                 "relay receive buffer: rb %d (relay-rcvbuf 262144)" % rel["rb"])
        tp.check(rel["tb"] == sysctl("wmem_default"),
                 "relay send buffer: the kernel default (tb %d)" % rel["tb"])
        log = srv.read_log()
        tp.check("UDP listeners: rcvbuf 1048576, sndbuf 786432" in log or
                 "UDP listeners: asked for rcvbuf 1048576" in log,
                 "the start-up log states the listener buffers")
        tp.check("UDP relays: rcvbuf 262144" in log or "UDP relays: asked for rcvbuf 262144" in log,
                 "the start-up log states the relay buffers")
        s.close()


if __name__ == "__main__":
    tp.main(test)
