#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Two RFC 6062 TCP allocations of one server relay to each other with the
default peer policy (loopback relay address, no allowed-peer): A Connects to
B's relayed address, B gets a ConnectionAttempt from A's relayed address, both
bind data connections and bytes flow both ways. B's relay address on another
port is refused (403), and so is B's port once B's allocation is gone.

Also RFC 6062's data connection with the control connection's NONCE (what
turnutils_uclient -T does): ConnectionBind succeeds at the first try, no 438."""
import os
import socket
import struct

import tpstream as tp


def pump(a, b, nbytes, label):
    data = os.urandom(nbytes)
    a.sendall(data)
    b.settimeout(5)
    got = tp.recv_exact(b, nbytes)
    tp.check(got == data, "%s: %d bytes arrived intact" % (label, nbytes))


def bind_reusing_nonce(port, ctl, cid):
    """A data connection that authenticates with what the control connection
    learnt (realm, nonce): no new challenge first."""
    d = tp.Client(tp.connect(port), user=ctl.user, pw=ctl.pw)
    d.realm, d.nonce = ctl.realm, ctl.nonce
    m = d.transact(tp.CONNECTION_BIND, [(tp.A_CONNECTION_ID, struct.pack("!I", cid))], True)
    tp.check(m.cls == tp.SUCCESS,
             "ConnectionBind %#x with the control connection's nonce succeeds (%r)" % (cid, m))
    return d


def wait_attempt(ctl):
    ctl.sock.settimeout(5)
    kind, raw = ctl.pending.pop(0) if ctl.pending else tp.read_frame(ctl.sock)
    m = tp.Msg(raw)
    tp.check(kind == "stun" and m.method == tp.CONNECTION_ATTEMPT,
             "ConnectionAttempt arrives (%r)" % m)
    return struct.unpack("!I", m.get(tp.A_CONNECTION_ID))[0], tp.unxor_addr(m.get(tp.A_XOR_PEER))


def test(binary):
    # the default policy: nothing opened by allowed-peer
    with tp.Server(binary, {"p": "tcp"}, {"allowed-peer": "[ ]"}) as srv:
        port = srv.ports["p"]
        a = tp.Client(tp.connect(port))
        ra = a.allocate(transport=6)
        b = tp.Client(tp.connect(port), user="bob", pw="bobpw")
        rb = b.allocate(transport=6)
        tp.log("relays: A %s:%d, B %s:%d" % (ra + rb))

        # B lets A in (a permission for A's relay address, on its live port)
        m = b.request(tp.CREATE_PERMISSION, [(tp.A_XOR_PEER, tp.xor_addr(ra[0], ra[1], None))])
        tp.check(m.cls == tp.SUCCESS, "B: CreatePermission for A's relay address (%r)" % m)
        # A connects to B's relayed address
        cid_a = a.connect_peer(*rb)
        tp.check(cid_a != 0, "A: Connect to B's relay address -> CONNECTION-ID %#x" % cid_a)
        cid_b, src = wait_attempt(b)
        tp.check(src == ra, "B: the connection comes from A's relayed address (%s:%d)" % src)
        da = bind_reusing_nonce(port, a, cid_a)
        db = bind_reusing_nonce(port, b, cid_b)
        pump(da.sock, db.sock, 100000, "A -> B through two TCP relays")
        pump(db.sock, da.sock, 100000, "B -> A through two TCP relays")

        # B's relay address on a port no allocation holds: 403
        for p in (rb[1] + 1 if rb[1] + 1 != ra[1] else rb[1] + 2, 22):
            m = a.request(tp.CONNECT, [(tp.A_XOR_PEER, tp.xor_addr(rb[0], p, None))], timeout=10)
            tp.check(m.code() == 403, "A: Connect to the relay address port %d: 403 (%r)" % (p, m))

        # B goes: its port is refused again
        db.close()
        da.close()
        b.close()
        for _ in range(50):
            m = a.request(tp.CONNECT, [(tp.A_XOR_PEER, tp.xor_addr(rb[0], rb[1], None))],
                          timeout=10)
            if m.code() == 403:
                break
        tp.check(m.code() == 403, "A: Connect to B's released relay port: 403 (%r)" % m)
        a.close()
        tp.check(srv.alive(), "server still running")


if __name__ == "__main__":
    tp.main(test)
