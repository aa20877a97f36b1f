#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Connections that die at every stage (reset or closed) leave nothing
behind: during first-byte detection, in the middle of a TLS handshake, after
it, with an allocation, with a Connect still pending (a peer whose accept
queue is full), with a bound RFC 6062 pipe in full flow, and a data
connection closed right after sending ConnectionBind. Afterwards the
server's descriptor count is back where it started, it still serves, and it
stops cleanly (the -san variant checks for leaks and use-after-free)."""
import os
import socket
import struct
import time

import tpstream as tp


def rst(s):
    """Close with a TCP reset."""
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    s.close()


def stalled_listener():
    """A listener whose accept queue is full: further SYNs get no answer."""
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.bind(("127.0.0.1", 0))
    ls.listen(0)
    fill = []
    for _ in range(4):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.setblocking(False)
        try:
            c.connect(ls.getsockname())
        except BlockingIOError:
            pass
        fill.append(c)
    time.sleep(0.1)
    return ls, fill


def round_(srv, k, hello):
    P, T = srv.ports["p"], srv.ports["t"]
    src = "127.0.3.%d" % (k + 1)
    for close in (rst, lambda s: s.close()):
        close(tp.connect(P, src=src))                              # before the first byte
        s = tp.connect(T, src=src)
        s.sendall(hello[:100])
        close(s)                                                   # mid handshake
        close(tp.connect(T, tls=True, src=src))                    # after the handshake
        c = tp.Client(tp.connect(T, tls=True, src=src))
        c.allocate()
        close(c.sock)                                              # with an allocation
        # a pending Connect
        ls, fill = stalled_listener()
        c = tp.Client(tp.connect(P, src=src))
        c.allocate(transport=6)
        c.sock.sendall(tp.encode(tp.CONNECT, tp.REQUEST,
                                 [(tp.A_USERNAME, tp.USER.encode()), (tp.A_REALM, c.realm),
                                  (tp.A_NONCE, c.nonce),
                                  (tp.A_XOR_PEER, tp.xor_addr(*ls.getsockname(), None))],
                                 key=tp.lt_key()))
        time.sleep(0.05)
        close(c.sock)
        for f in fill:
            f.close()
        ls.close()
        # a pipe in full flow, then the control connection goes
        c, pl, ps, d = tp.connect_pipe(P, src=src)
        ps.setblocking(False)
        d.sock.setblocking(False)
        junk = os.urandom(256 << 10)
        for _ in range(8):
            for s in (ps, d.sock):
                try:
                    s.send(junk)
                except (BlockingIOError, OSError):
                    pass
        close(c.sock)
        time.sleep(0.05)
        close(d.sock)
        close(ps)
        pl.close()
        # ConnectionBind sent, connection closed before the answer
        pl = tp.peer_listener()
        c = tp.Client(tp.connect(P, src=src))
        c.allocate(transport=6)
        cid = c.connect_peer(*pl.getsockname())
        ps, _ = pl.accept()
        d = tp.Client(tp.connect(P, src=src))
        d.request(tp.CONNECTION_BIND, [(tp.A_CONNECTION_ID, struct.pack("!I", 0))])
        d.sock.sendall(tp.encode(tp.CONNECTION_BIND, tp.REQUEST,
                                 [(tp.A_USERNAME, tp.USER.encode()), (tp.A_REALM, d.realm),
                                  (tp.A_NONCE, d.nonce),
                                  (tp.A_CONNECTION_ID, struct.pack("!I", cid))],
                                 key=tp.lt_key()) + b"x" * 5000)
        close(d.sock)
        time.sleep(0.05)
        close(c.sock)
        ps.close()
        pl.close()


def test(binary):
    opts = {"handshake-timeout": "3", "idle-timeout": "30"}
    with tp.Server(binary, {"p": "tcp", "t": "tls"}, opts, tls=True) as srv:
        hello = tp.client_hello()
        time.sleep(0.2)
        fds0 = srv.nfds()
        for k in range(5):
            round_(srv, k, hello)
        deadline = time.time() + 8
        while time.time() < deadline and srv.nfds() > fds0:
            time.sleep(0.2)
        fds1 = srv.nfds()
        tp.check(fds1 <= fds0, "descriptors back to %d (now %d)" % (fds0, fds1))
        c = tp.Client(tp.connect(srv.ports["t"], tls=True))
        c.allocate()
        c.close()
        tp.check(srv.alive(), "server still running and serving")


if __name__ == "__main__":
    tp.main(test)
