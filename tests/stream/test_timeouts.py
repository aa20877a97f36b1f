#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Slowloris defences on tcp: and tls: listeners (handshake-timeout = 2 s):
silent connections, a TLS handshake that stops half-way, a TLS session that
never sends a first message, and connections that drip one byte at a time are
closed after the handshake timeout, and a silent established one after
idle-timeout (10 s); connections beyond max-connections-per-ip
and max-connections are refused while other sources are still served; no
file descriptor is left behind."""
import threading
import time

import tpstream as tp

HS = 2
IDLE = 10


def drip(sock, data, interval, stop):
    for b in data:
        if stop.is_set():
            return
        try:
            sock.send(bytes([b]))
        except OSError:
            return
        time.sleep(interval)


def limits(srv):
    port = srv.ports["p"]
    held = []
    for i in range(8):
        c = tp.Client(tp.connect(port, src="127.0.0.3"))
        c.binding()
        held.append(c)
    extra = tp.connect(port, src="127.0.0.3")
    took = tp.closed_by_peer(extra, 1.5)
    extra.close()
    tp.check(took is not None, "9th connection from one address refused (max-connections-per-ip 8)")
    other = tp.Client(tp.connect(port, src="127.0.0.4"))
    other.binding()
    tp.check(True, "another address still served")
    held[0].close()
    time.sleep(0.3)
    again = tp.Client(tp.connect(port, src="127.0.0.3"))
    again.binding()
    tp.check(True, "a slot freed by a close is usable again")
    held[0] = again
    # total: 8 + 1 held now; max-connections 12 leaves 3
    more = [tp.Client(tp.connect(port, src="127.0.0.5")) for _ in range(3)]
    for c in more:
        c.binding()
    extra = tp.connect(port, src="127.0.0.6")
    took = tp.closed_by_peer(extra, 1.5)
    extra.close()
    tp.check(took is not None, "13th connection refused (max-connections 12)")
    for c in held + more + [other]:
        c.close()


def test(binary):
    opts = {"handshake-timeout": str(HS), "idle-timeout": str(IDLE),
            "max-connections-per-ip": "8", "max-connections": "12"}
    with tp.Server(binary, {"p": "tcp", "t": "tls"}, opts, tls=True) as srv:
        time.sleep(0.2)
        fds0 = srv.nfds()
        limits(srv)
        time.sleep(0.5)

        # every case on its own source address, all at once
        hello = tp.client_hello()
        P, T = srv.ports["p"], srv.ports["t"]
        binding = tp.encode(tp.BINDING, tp.REQUEST, [])
        D = (HS - 0.6, HS + 2.0)         # closed at the handshake deadline
        cases = [
            ("silent TCP connection (tcp:)", P, False, b"", None, D),
            ("silent TCP connection (tls:)", T, False, b"", None, D),
            ("TLS ClientHello cut in half", T, False, hello[: len(hello) // 2], None, D),
            ("TLS handshake left unanswered after ServerHello", T, False, hello, None, D),
            ("TLS session without a first message", T, True, b"", None, D),
            ("plain TCP with a partial first frame", P, False, b"\x00\x01\x00", None, D),
            ("plain TCP first frame dripped", P, False, None, binding, (0, HS + 2.0)),
            ("TLS ClientHello dripped", T, False, None, hello, (0, HS + 2.0)),
            # a complete first message, then silence: idle-timeout (10 s)
            ("TCP connection silent after a Binding (idle-timeout)", P, False, binding, None,
             (IDLE - 0.6, IDLE + 2.5)),
        ]
        results = {}

        def run(k, label, port, tls, data, dripped, window):
            s = tp.connect(port, tls=tls, src="127.0.1.%d" % (k + 1))
            t0 = time.time()
            if dripped is not None:
                stop = threading.Event()
                t = threading.Thread(target=drip, args=(s, dripped, 0.5, stop))
                t.start()
            elif data:
                s.sendall(data)
            took = tp.closed_by_peer(s, IDLE + 4 if data == binding else HS + 6)
            if dripped is not None:
                stop.set()
                t.join()
            s.close()
            results[k] = (took, time.time() - t0)

        ts = [threading.Thread(target=run, args=(k,) + c) for k, c in enumerate(cases)]
        for t in ts:
            t.start()
        # meanwhile: after a complete first message the handshake deadline no
        # longer applies
        c = tp.Client(tp.connect(P, src="127.0.2.1"))
        c.binding()
        took = tp.closed_by_peer(c.sock, HS + 1.5)
        tp.check(took is None, "an established connection outlives the handshake timeout")
        c.binding()
        c.close()
        for t in ts:
            t.join()
        for k, (label, _, _, _, dripped, (lo, hi)) in enumerate(cases):
            took, waited = results.get(k, (None, 0))
            shown = "%.1f s" % took if took is not None else "never (waited %.0f s)" % waited
            if dripped is None:
                tp.expect(took is not None and lo <= took <= hi,
                          "%s: closed after %s (expected %.1f-%.1f)" % (label, shown, lo, hi))
            else:
                tp.expect(took is not None and took <= hi,
                          "%s: closed within %d s of connecting although a byte came every "
                          "0.5 s (%s)" % (label, hi, shown))

        time.sleep(0.5)
        fds1 = srv.nfds()
        tp.check(fds1 <= fds0, "no descriptor leaked (%d before, %d after)" % (fds0, fds1))
        tp.Client(tp.connect(srv.ports["p"])).binding()
        tp.Client(tp.connect(srv.ports["t"], tls=True)).binding()


if __name__ == "__main__":
    tp.main(test)
