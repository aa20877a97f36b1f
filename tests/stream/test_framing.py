#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A framing error on a stream closes that connection only (RFC 8656 §12.5
framing, RFC 7983 first bytes): a bad first byte, a STUN length that is not a
multiple of 4, garbage after a good frame, on tcp: and tls: listeners; a
client with an allocation on the same listener keeps working, and so does
one whose frame declares the longest length and delivers it."""
import struct
import time

import tpstream as tp


def bad(port, payload, label, tls=False, first=None, within=2.0):
    s = tp.connect(port, tls=tls)
    if first is not None:
        c = tp.Client(s)
        c.binding()
    s.sendall(payload)
    took = tp.closed_by_peer(s, within)
    s.close()
    tp.check(took is not None, "%s: connection closed (%s s)" %
             (label, "%.1f" % took if took is not None else "not within %.1f" % within))


def still_works(c, label):
    m = c.request(tp.REFRESH, [(tp.A_LIFETIME, struct.pack("!I", 60))])
    tp.check(m.cls == tp.SUCCESS, "%s: the other client's Refresh succeeds" % label)


def test(binary):
    opts = {"handshake-timeout": "3", "idle-timeout": "10"}
    with tp.Server(binary, {"p": "tcp", "t": "tls"}, opts, tls=True) as srv:
        for name, tls in (("p", False), ("t", True)):
            port = srv.ports[name]
            kind = "tls" if tls else "tcp"
            good = tp.Client(tp.connect(port, tls=tls))
            good.allocate()
            good.sock.settimeout(5)
            stun = tp.encode(tp.BINDING, tp.REQUEST, [])
            if tls:
                bad(port, b"\x80" + stun[1:], "tls: first byte 0x80 inside TLS", tls=True)
            else:
                bad(port, b"\x80" + stun[1:], "tcp: first byte 0x80")
                # "GE" reads as ChannelData 0x4745 of length 0x5420: it waits for
                # the rest of that frame until the handshake timeout (3 s)
                bad(port, b"GET / HTTP/1.1\r\n\r\n", "tcp: HTTP request", within=4.5)
            bad(port, stun[:2] + b"\x00\x03" + stun[4:], "%s: STUN length 3" % kind, tls=tls)
            bad(port, b"\xC0\x00\x00\x04abcd", "%s: garbage after a good frame" % kind,
                tls=tls, first=True)
            bad(port, b"\x50\x00\x00\x04abcd", "%s: first byte 0x50 after a good frame" % kind,
                tls=tls, first=True)
            still_works(good, kind)
            # the longest frames a stream can declare: STUN length 65532 and
            # ChannelData length 65535 on an unbound channel, delivered whole;
            # they may be dropped or end the connection, but nothing else
            for hdr in (struct.pack("!HHI", 0x0001, 0xFFFC, tp.MAGIC) + b"x" * 12,
                        struct.pack("!HH", 0x4001, 0xFFFF)):
                s = tp.connect(port, tls=tls)
                n = (struct.unpack("!H", hdr[2:4])[0] + 3) // 4 * 4 - (len(hdr) - 4)
                try:
                    s.sendall(hdr + b"\0" * n)
                    c = tp.Client(s)
                    try:
                        c.binding()
                    except (EOFError, OSError):
                        pass
                finally:
                    s.close()
            still_works(good, kind + " after 64 KB frames")
            good.close()
        time.sleep(0.2)
        tp.check(srv.alive(), "server still running")


if __name__ == "__main__":
    tp.main(test)
