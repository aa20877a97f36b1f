#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""RFC 6062 TCP relays, step by step: a TCP allocation, Connect (from the
relayed address) -> CONNECTION-ID, ConnectionBind on a data connection that
becomes a byte pipe both ways, 446 for a second Connect to the same peer, 447
for a peer that refuses, 403 for a denied peer or the server's own listener,
ConnectionAttempt for a permitted peer connecting in (and none for a peer
without permission), 400 for an unknown CONNECTION-ID, and closes that travel
through the pipe."""
import os
import socket
import struct
import time

import tpstream as tp


def peer_listener(ip="127.0.0.1"):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((ip, 0))
    ls.listen(8)
    ls.settimeout(5)
    return ls


def pump(a, b, nbytes, label):
    """Send nbytes from a, read them at b, compare."""
    data = os.urandom(nbytes)
    a.sendall(data)
    b.settimeout(5)
    got = tp.recv_exact(b, nbytes)
    tp.check(got == data, "%s: %d bytes arrived intact" % (label, nbytes))


def bind_data(port, cid):
    d = tp.Client(tp.connect(port))
    m = d.connection_bind(cid)
    tp.check(m.cls == tp.SUCCESS, "ConnectionBind %#x succeeds (%r)" % (cid, m))
    tp.check(not d.pending, "nothing else arrived before the pipe")
    return d.sock


def test(binary):
    opts = {"denied-peer": '[ "127.0.0.99/32" ]'}
    with tp.Server(binary, {"p": "tcp"}, opts) as srv:
        port = srv.ports["p"]
        ctl = tp.Client(tp.connect(port))
        relay = ctl.allocate(transport=6)
        tp.check(relay[0] == "127.0.0.1", "TCP allocation: relay %s:%d" % relay)

        # active: Connect
        ls = peer_listener()
        cid = ctl.connect_peer(*ls.getsockname())
        tp.check(cid != 0, "Connect -> CONNECTION-ID %#x" % cid)
        ps, src = ls.accept()
        tp.check(src == relay, "the peer sees the relayed address %s:%d as source (saw %s:%d)" %
                 (relay + src))
        m = tp.Client(tp.connect(port), user="bob", pw="bobpw").connection_bind(cid)
        tp.check(m.code() in (400, 441), "ConnectionBind by another user refused (%r)" % m)
        ds = bind_data(port, cid)
        pump(ds, ps, 200000, "client -> peer")
        pump(ps, ds, 200000, "peer -> client")

        m = ctl.request(tp.CONNECT, [(tp.A_XOR_PEER, tp.xor_addr(*ls.getsockname(), None))])
        tp.check(m.code() == 446, "second Connect to the same peer: 446 (%r)" % m)

        closed = peer_listener()
        cport = closed.getsockname()[1]
        closed.close()
        m = ctl.request(tp.CONNECT, [(tp.A_XOR_PEER, tp.xor_addr("127.0.0.1", cport, None))],
                        timeout=35)
        tp.check(m.code() == 447, "Connect to a closed port: 447 (%r)" % m)
        m = ctl.request(tp.CONNECT, [(tp.A_XOR_PEER, tp.xor_addr("127.0.0.99", 9, None))])
        tp.check(m.code() == 403, "Connect to a denied-peer address: 403 (%r)" % m)
        m = ctl.request(tp.CONNECT, [(tp.A_XOR_PEER, tp.xor_addr("127.0.0.1", port, None))])
        tp.check(m.code() == 403, "Connect to the server's own listener: 403 (%r)" % m)
        m = tp.Client(tp.connect(port)).connection_bind(0x12345678)
        tp.check(m.code() == 400, "ConnectionBind with an unknown CONNECTION-ID: 400 (%r)" % m)

        # ConnectionBind and the first raw bytes in one segment: the bytes
        # after the request belong to the pipe (RFC 6062 §5.4)
        ls2 = peer_listener()
        cid3 = ctl.connect_peer(*ls2.getsockname())
        ps2, _ = ls2.accept()
        d = tp.Client(tp.connect(port))
        # learn realm and nonce (401), then an unknown CONNECTION-ID (400)
        d.request(tp.CONNECTION_BIND, [(tp.A_CONNECTION_ID, struct.pack("!I", 0))])
        tid = os.urandom(12)
        req = tp.encode(tp.CONNECTION_BIND, tp.REQUEST,
                        [(tp.A_USERNAME, tp.USER.encode()), (tp.A_REALM, d.realm),
                         (tp.A_NONCE, d.nonce), (tp.A_CONNECTION_ID, struct.pack("!I", cid3))],
                        tid, tp.lt_key())
        d.sock.sendall(req + b"early bytes")
        kind, raw = tp.read_frame(d.sock)
        tp.check(tp.Msg(raw).cls == tp.SUCCESS, "ConnectionBind sent with data behind it succeeds")
        ps2.settimeout(5)
        tp.check(tp.recv_exact(ps2, 11) == b"early bytes",
                 "the bytes behind ConnectionBind reach the peer")
        pump(ps2, d.sock, 1000, "then peer -> client")
        d.close()
        ps2.close()
        ls2.close()

        # the peer closes: the client's data connection ends
        ps.close()
        took = tp.closed_by_peer(ds, 3)
        tp.check(took is not None, "peer close reaches the client's data connection")
        ds.close()

        # passive: a permitted peer connects in -> ConnectionAttempt
        ctl.permit("127.0.0.1")
        ps = socket.create_connection(relay, timeout=5, source_address=("127.0.0.1", 0))
        ctl.sock.settimeout(5)
        kind, raw = ctl.pending.pop(0) if ctl.pending else tp.read_frame(ctl.sock)
        m = tp.Msg(raw)
        tp.check(kind == "stun" and m.method == tp.CONNECTION_ATTEMPT and m.cls == tp.INDICATION,
                 "ConnectionAttempt indication for a permitted peer")
        cid2 = struct.unpack("!I", m.get(tp.A_CONNECTION_ID))[0]
        tp.check(tp.unxor_addr(m.get(tp.A_XOR_PEER)) == ps.getsockname(),
                 "its XOR-PEER-ADDRESS is the peer's address")
        ds = bind_data(port, cid2)
        pump(ps, ds, 50000, "incoming peer -> client")
        pump(ds, ps, 50000, "client -> incoming peer")
        ds.close()
        took = tp.closed_by_peer(ps, 3)
        tp.check(took is not None, "client data close reaches the peer")
        ps.close()

        # a peer without permission is refused and not announced
        ps = socket.create_connection(relay, timeout=5, source_address=("127.0.0.2", 0))
        took = tp.closed_by_peer(ps, 2)
        ps.close()
        tp.check(took is not None, "a peer without permission is disconnected")
        ctl.sock.settimeout(1)
        try:
            kind, raw = tp.read_frame(ctl.sock)
            tp.check(False, "no indication for it (got %r)" % tp.Msg(raw))
        except socket.timeout:
            tp.check(True, "no ConnectionAttempt for it")

        # a reload whose policy refuses the peer closes its live pipe (both
        # directions stop), not only new Connects
        ls3 = peer_listener("127.0.0.5")
        cid3 = ctl.connect_peer(*ls3.getsockname())
        ps3, _ = ls3.accept()
        ds3 = bind_data(port, cid3)
        pump(ds3, ps3, 1000, "before the reload")
        with open(srv.conf_path) as f:
            conf = f.read()
        with open(srv.conf_path, "w") as f:
            f.write(conf.replace('denied-peer = [ "127.0.0.99/32" ];',
                                 'denied-peer = [ "127.0.0.99/32", "127.0.0.5/32" ];'))
        srv.sighup("configuration reloaded")
        tp.check(tp.closed_by_peer(ps3, 3) is not None, "reload: the denied peer's connection closes")
        tp.check(tp.closed_by_peer(ds3, 3) is not None, "reload: the client's data connection closes")
        ps3.close()
        ds3.close()
        ls3.close()

        # Connect on a UDP allocation
        u = tp.Client(tp.connect(port))
        u.allocate()
        m = u.request(tp.CONNECT, [(tp.A_XOR_PEER, tp.xor_addr(*ls.getsockname(), None))])
        tp.check(m.code() == 400, "Connect on a UDP allocation: 400 (%r)" % m)
        u.close()
        ctl.binding()
        ctl.close()
        ls.close()
        time.sleep(0.2)
        tp.check(srv.alive(), "server still running")


if __name__ == "__main__":
    tp.main(test)
