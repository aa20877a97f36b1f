#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""RFC 6062 peer connections are capped per allocation and counted in
max-connections (issue 16, item 7).

A TCP allocation permits 127.0.0.1 and a peer there opens 300 connections to
its relayed address. With the default max-peer-connections (32) the server
keeps 32 (32 ConnectionAttempt indications, 32 more descriptors) and closes
the rest at once; a Connect request past the cap is answered 508. Then, on a
server with max-connections = 10, peer connections take the place of
control connections: beside the control connection and a bound pipe (its
peer and data connections count), the peer gets 7 in and another client's
TCP connection is refused; the pipe's end frees two places, and the
allocation's end frees them all.
"""
import socket
import struct
import time

import tpstream as tp

NPEER = 300
CAP = 32   # the default of max-peer-connections


def attempts(ctl, quiet=1.0):
    """Count ConnectionAttempt indications until quiet seconds pass without one."""
    n = sum(1 for kind, raw in ctl.pending
            if kind == "stun" and tp.Msg(raw).method == tp.CONNECTION_ATTEMPT)
    ctl.pending = []
    ctl.sock.settimeout(quiet)
    try:
        while True:
            kind, raw = tp.read_frame(ctl.sock)
            if kind == "stun" and tp.Msg(raw).method == tp.CONNECTION_ATTEMPT:
                n += 1
    except socket.timeout:
        pass
    return n


def flood(relay, n):
    peers = []
    for _ in range(n):
        p = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        p.bind(("127.0.0.1", 0))
        p.settimeout(5)
        p.connect(relay)
        peers.append(p)
    return peers


def still_open(peers, within=1.5):
    """How many of peers the server has not closed after 'within' s."""
    deadline = time.time() + within
    left = list(peers)
    while left and time.time() < deadline:
        for p in list(left):
            p.setblocking(False)
            try:
                if p.recv(1) == b"":
                    left.remove(p)
            except BlockingIOError:
                pass
            except OSError:
                left.remove(p)
        time.sleep(0.05)
    return len(left)


def capped(binary):
    with tp.Server(binary, {"p": "tcp"}) as srv:
        ctl = tp.Client(tp.connect(srv.ports["p"]))
        relay = ctl.allocate(transport=6)
        ctl.permit("127.0.0.1")
        time.sleep(0.2)
        fds0 = srv.nfds()
        peers = flood(relay, NPEER)
        n = attempts(ctl)
        fds1 = srv.nfds()
        kept = still_open(peers)
        tp.log("%d peer connects: %d ConnectionAttempts, %d kept open, server fds %d -> %d" %
               (NPEER, n, kept, fds0, fds1))
        tp.check(n == CAP, "ConnectionAttempts for the first %d peer connections only (%d)"
                 % (CAP, n))
        tp.check(fds1 - fds0 <= CAP + 2, "the server holds %d more descriptors (<= %d + 2)"
                 % (fds1 - fds0, CAP))
        tp.check(kept == CAP, "the %d past the cap were closed at once (%d still open)"
                 % (NPEER - CAP, kept))
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.bind(("127.0.0.1", 0))
        ls.listen(1)
        m = ctl.request(tp.CONNECT, [(tp.A_XOR_PEER, tp.xor_addr(*ls.getsockname(), None))])
        tp.check(m.code() == 508, "Connect past the cap: 508 (%r)" % m)
        ls.close()
        for p in peers:
            p.close()
        m = ctl.request(tp.REFRESH, [(tp.A_LIFETIME, struct.pack("!I", 60))])
        tp.check(m.cls == tp.SUCCESS, "the control connection still works")
        ctl.close()
        tp.check(srv.alive(), "server still running")


def counted(binary):
    opts = {"max-connections": "10"}
    with tp.Server(binary, {"p": "tcp"}, opts) as srv:
        port = srv.ports["p"]
        ctl = tp.Client(tp.connect(port))
        relay = ctl.allocate(transport=6)
        ctl.permit("127.0.0.1")
        # a pipe: the peer connection and the data connection bound to it
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.bind(("127.0.0.1", 0))
        ls.listen(1)
        ls.settimeout(5)
        cid = ctl.connect_peer(*ls.getsockname())
        ps, _ = ls.accept()
        d = tp.Client(tp.connect(port))
        tp.check(d.connection_bind(cid).cls == tp.SUCCESS, "a pipe is bound")
        peers = flood(relay, 20)
        n = attempts(ctl)
        kept = still_open(peers)
        tp.log("max-connections 10, a control connection and a pipe: %d ConnectionAttempts, "
               "%d peer connections kept" % (n, kept))
        tp.check(n == 7 and kept == 7, "peer connections fill max-connections beside the "
                 "control connection and the pipe's two (7 attempts, %d; 7 kept, %d)"
                 % (n, kept))
        other = tp.connect(port, src="127.0.0.9")
        took = tp.closed_by_peer(other, 1.5)
        other.close()
        tp.check(took is not None, "a new control connection is refused meanwhile")
        # the pipe ends: its two places are free again
        ps.close()
        tp.check(tp.closed_by_peer(d.sock, 3) is not None, "the pipe closed")
        d.close()
        time.sleep(0.2)
        more = flood(relay, 5)
        n = attempts(ctl)
        tp.check(n == 2 and still_open(more) == 2, "the pipe's two places are taken again "
                 "(%d attempts)" % n)
        # the allocation goes, and its peer connections with it
        ctl.close()
        time.sleep(0.3)
        for p in peers + more:
            p.close()
        tp.Client(tp.connect(port, src="127.0.0.9")).binding()
        tp.check(srv.alive(), "server still running")


def test(binary):
    capped(binary)
    counted(binary)


if __name__ == "__main__":
    tp.main(test)
