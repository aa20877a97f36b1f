#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""RFC 6062 §5.2/§5.3: a peer connection that no data connection binds within
30 s is closed, both for a Connect (active) and for a peer that connected in
(ConnectionAttempt); the allocation itself stays usable. About 32 s; only the
plain variant is registered."""
import socket
import struct
import threading
import time

import tpstream as tp

LIMIT = 30


def watch(sock, out, key):
    t0 = time.time()
    out[key] = (tp.closed_by_peer(sock, LIMIT + 5), t0)


def test(binary):
    with tp.Server(binary, {"p": "tcp"}, {"idle-timeout": "120"}) as srv:
        ctl = tp.Client(tp.connect(srv.ports["p"]))
        relay = ctl.allocate(transport=6)
        ls = tp.peer_listener()
        ctl.connect_peer(*ls.getsockname())
        active, _ = ls.accept()
        ctl.permit("127.0.0.1")
        passive = socket.create_connection(relay, timeout=5)
        kind, raw = ctl.pending.pop(0) if ctl.pending else tp.read_frame(ctl.sock)
        tp.check(tp.Msg(raw).method == tp.CONNECTION_ATTEMPT, "ConnectionAttempt received")
        out = {}
        ts = [threading.Thread(target=watch, args=(active, out, "Connect")),
              threading.Thread(target=watch, args=(passive, out, "ConnectionAttempt"))]
        for t in ts:
            t.start()
        # keep the control connection busy meanwhile (and check it is served)
        deadline = time.time() + LIMIT + 3
        while time.time() < deadline and any(t.is_alive() for t in ts):
            m = ctl.request(tp.REFRESH, [(tp.A_LIFETIME, struct.pack("!I", 60))])
            if m.cls != tp.SUCCESS:
                raise tp.Fail("Refresh failed: %r" % m)
            time.sleep(2)
        for t in ts:
            t.join()
        for key in ("Connect", "ConnectionAttempt"):
            took, _ = out[key]
            tp.expect(took is not None and LIMIT - 1 <= took <= LIMIT + 3,
                      "unbound %s peer connection closed after %s s (expected ~%d)" %
                      (key, "%.1f" % took if took is not None else "never", LIMIT))
        m = ctl.request(tp.REFRESH, [(tp.A_LIFETIME, struct.pack("!I", 60))])
        tp.check(m.cls == tp.SUCCESS, "the allocation is still there")
        for s in (active, passive, ls):
            s.close()
        ctl.close()


if __name__ == "__main__":
    tp.main(test)
