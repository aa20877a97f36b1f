#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A peer cannot inject frames into a TURN/TCP client's stream: an IPv6 peer
datagram of 65,510 bytes (legal: IPv6 over loopback, or fragmented) makes a
Data indication whose 16-bit length would wrap. It must be dropped (and
counted), so that the next thing the client reads is the peer's next, small
datagram as a well-formed Data indication, not attacker-chosen bytes."""
import os
import socket
import struct

import tpstream as tp

A_REQ_FAMILY = 0x0017


def xor_addr6(host, port, tid):
    ip = socket.inet_pton(socket.AF_INET6, host)
    key = struct.pack("!I", tp.MAGIC) + tid
    return struct.pack("!BBH", 0, 2, port ^ (tp.MAGIC >> 16)) + bytes(a ^ b for a, b in zip(ip, key))


def unxor_addr6(v, tid):
    fam, xport = struct.unpack("!xBH", v[:4])
    key = struct.pack("!I", tp.MAGIC) + tid
    ip = bytes(a ^ b for a, b in zip(v[4:20], key))
    return socket.inet_ntop(socket.AF_INET6, ip), xport ^ (tp.MAGIC >> 16)


def test(binary):
    opts = {"relay-ip": '[ "127.0.0.1", "::1" ]', "allowed-peer": '[ "::1" ]'}
    with tp.Server(binary, {"t": "tcp"}, opts) as srv:
        c = tp.Client(tp.connect(srv.ports["t"]))
        m = c.request(tp.ALLOCATE, [(tp.A_REQ_TRANSPORT, b"\x11\0\0\0"),
                                    (A_REQ_FAMILY, b"\x02\0\0\0")])
        tp.check(m.cls == tp.SUCCESS, "Allocate with an IPv6 relay over TCP (%r)" % m)
        relay = unxor_addr6(m.get(tp.A_XOR_RELAYED), m.tid)
        peer = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        peer.bind(("::1", 0))
        pport = peer.getsockname()[1]
        tid = os.urandom(12)
        m = c.request(tp.CREATE_PERMISSION, [(tp.A_XOR_PEER, xor_addr6("::1", pport, tid))],
                      tid=tid)
        tp.check(m.cls == tp.SUCCESS, "CreatePermission for [::1]:%d (%r)" % (pport, m))

        # the jumbo datagram: its tail looks like a Data indication from a peer
        # the client never permitted, to be read as a frame if the length wraps
        forged = tp.encode(tp.DATA, tp.INDICATION,
                           [(tp.A_XOR_PEER, tp.xor_addr("192.0.2.66", 6666, None)),
                            (tp.A_DATA, b"forged")], fingerprint=False)
        size = 65510
        jumbo = b"\0" * (size - len(forged)) + forged
        peer.sendto(jumbo, relay[:2])
        peer.sendto(b"after", relay[:2])

        c.sock.settimeout(3)
        kind, raw = c.pending.pop(0) if c.pending else tp.read_frame(c.sock)
        m = tp.Msg(raw)
        data = m.get(tp.A_DATA)
        tp.check(kind == "stun" and m.method == tp.DATA and data == b"after",
                 "the first frame is the small datagram's Data indication (%r, %r)" %
                 (m, data[:16] if data else None))
        src = m.get(tp.A_XOR_PEER)
        tp.check(src is not None and unxor_addr6(src, m.tid) == ("::1", pport),
                 "from the peer")
        c.sock.settimeout(0.5)
        try:
            kind, raw = tp.read_frame(c.sock)
            tp.check(False, "nothing else arrives (got %r)" % tp.Msg(raw))
        except socket.timeout:
            tp.check(True, "nothing else arrives")
        c.binding()
        tp.check(srv.alive(), "server still running")


if __name__ == "__main__":
    tp.main(test)
