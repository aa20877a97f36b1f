#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""idle-timeout must not cut allocations short: a control connection that
carries a live allocation stays open for the allocation's granted lifetime
(closing it deletes the allocation, RFC 8656 §3.1 / RFC 6062 §4) while the
client has nothing to say on it:
  a) an RFC 6062 TCP allocation whose data go over a bound data connection;
  b) a UDP allocation on a TCP connection whose client only receives.
idle-timeout is 10 s, the granted lifetime 60 s; traffic flows for 14 s while
the control connections are silent; then both Refresh.
A connection without an allocation is still closed after idle-timeout
(test_timeouts.py)."""
import os
import socket
import struct
import threading
import time

import tpstream as tp

IDLE = 10
RUN = IDLE + 4


def pipe_case(port, out):
    ctl, ls, ps, d = tp.connect_pipe(port)
    ds = d.sock
    ds.settimeout(3)
    ps.settimeout(3)
    t0, rounds = time.time(), 0
    try:
        while time.time() - t0 < RUN:
            b = os.urandom(1000)
            ds.sendall(b)
            if tp.recv_exact(ps, 1000) != b:
                raise tp.Fail("pipe data corrupted")
            ps.sendall(b)
            if tp.recv_exact(ds, 1000) != b:
                raise tp.Fail("pipe data corrupted")
            rounds += 1
            time.sleep(0.1)
        out["pipe"] = (True, "%d round trips over %.0f s" % (rounds, time.time() - t0))
    except (OSError, EOFError) as e:
        out["pipe"] = (False, "pipe broke after %.1f s: %r" % (time.time() - t0, e))
    try:
        m = ctl.request(tp.REFRESH, [(tp.A_LIFETIME, struct.pack("!I", 60))])
        out["pipe-refresh"] = (m.cls == tp.SUCCESS, repr(m))
    except (OSError, EOFError) as e:
        out["pipe-refresh"] = (False, "control connection gone: %r" % e)
    for s in (ds, ps, ls):
        s.close()
    ctl.close()


def receive_case(port, out):
    c = tp.Client(tp.connect(port))
    relay = c.allocate()
    c.permit("127.0.0.1")
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    c.sock.settimeout(3)
    t0, got = time.time(), 0
    try:
        while time.time() - t0 < RUN:
            peer.sendto(b"x" * 100, relay)
            kind, raw = tp.read_frame(c.sock)
            if kind == "stun" and tp.Msg(raw).method == tp.DATA:
                got += 1
            time.sleep(0.2)
        out["recv"] = (True, "%d Data indications over %.0f s" % (got, time.time() - t0))
    except (OSError, EOFError) as e:
        out["recv"] = (False, "connection broke after %.1f s: %r" % (time.time() - t0, e))
    try:
        m = c.request(tp.REFRESH, [(tp.A_LIFETIME, struct.pack("!I", 60))])
        out["recv-refresh"] = (m.cls == tp.SUCCESS, repr(m))
    except (OSError, EOFError) as e:
        out["recv-refresh"] = (False, "connection gone: %r" % e)
    peer.close()
    c.close()


def test(binary):
    opts = {"idle-timeout": str(IDLE), "default-lifetime": "60", "max-lifetime": "60"}
    with tp.Server(binary, {"p": "tcp"}, opts) as srv:
        out = {}
        ts = [threading.Thread(target=f, args=(srv.ports["p"], out))
              for f in (pipe_case, receive_case)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(RUN + 20)
        labels = {
            "pipe": "RFC 6062 pipe keeps working while its control connection is silent",
            "pipe-refresh": "then the TCP allocation is refreshed on its control connection",
            "recv": "a receive-only TURN/TCP client keeps getting data",
            "recv-refresh": "then its allocation is refreshed",
        }
        for k, label in labels.items():
            ok, why = out.get(k, (False, "did not finish"))
            tp.expect(ok, "%s (%s)" % (label, why))


if __name__ == "__main__":
    tp.main(test)
