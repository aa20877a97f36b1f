#!/usr/bin/env python3
"""Slowloris defences on tcp: and tls: listeners (handshake-timeout = 2 s):
silent connections, a TLS handshake that stops half-way, a TLS session that
never sends a first message, and connections that drip one byte at a time are
closed after the handshake timeout; connections beyond max-connections-per-ip
and max-connections are refused while other sources are still served; no
file descriptor is left behind."""
import socket
import ssl
import threading
import time

import tpstream as tp

HS = 2


def client_hello():
    """The bytes of a real TLS ClientHello (made by Python's TLS stack)."""
    ctx = tp.tls_client_ctx()
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def expect_closed(sock, label, lo=HS - 0.6, hi=HS + 2.0):
    took = tp.closed_by_peer(sock, hi + 1)
    sock.close()
    tp.check(took is not None and lo <= took <= hi,
             "%s: closed after %s s (expected %.1f-%.1f)" %
             (label, "%.1f" % took if took is not None else "never", lo, hi))


def drip(sock, data, interval, stop):
    for b in data:
        if stop.is_set():
            return
        try:
            sock.send(bytes([b]))
        except OSError:
            return
        time.sleep(interval)


def expect_drip_closed(port, data, label):
    """Send data one byte every 0.5 s: the connection must still be closed when
    the handshake timeout runs out, not kept alive by each byte."""
    s = tp.connect(port)
    stop = threading.Event()
    t = threading.Thread(target=drip, args=(s, data, 0.5, stop))
    t0 = time.time()
    t.start()
    took = tp.closed_by_peer(s, HS + 6)
    stop.set()
    t.join()
    s.close()
    tp.expect(took is not None and took <= HS + 2.0,
              "%s: closed within %d s of connecting although a byte came every 0.5 s "
              "(%s)" % (label, HS + 2, "closed after %.1f s" % took if took is not None
                        else "still open after %.0f s" % (time.time() - t0)))


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
    opts = {"handshake-timeout": str(HS), "idle-timeout": "10",
            "max-connections-per-ip": "8", "max-connections": "12"}
    with tp.Server(binary, {"p": "tcp", "t": "tls"}, opts, tls=True) as srv:
        time.sleep(0.2)
        fds0 = srv.nfds()
        limits(srv)
        time.sleep(0.5)

        expect_closed(tp.connect(srv.ports["p"]), "silent TCP connection (tcp:)")
        expect_closed(tp.connect(srv.ports["t"]), "silent TCP connection (tls:)")

        hello = client_hello()
        s = tp.connect(srv.ports["t"])
        s.sendall(hello[: len(hello) // 2])
        expect_closed(s, "TLS ClientHello cut in half")

        s = tp.connect(srv.ports["t"])
        s.sendall(hello)
        expect_closed(s, "TLS handshake left unanswered after ServerHello")

        s = tp.connect(srv.ports["t"], tls=True)
        expect_closed(s, "TLS session without a first message")

        s = tp.connect(srv.ports["p"])
        s.sendall(b"\x00\x01\x00")          # 3 bytes of a STUN header
        expect_closed(s, "plain TCP with a partial first frame")

        # a complete first message, then silence: idle timeout (10 s) applies, not 2 s
        c = tp.Client(tp.connect(srv.ports["p"]))
        c.binding()
        took = tp.closed_by_peer(c.sock, HS + 1.5)
        tp.check(took is None, "an established connection outlives the handshake timeout")
        c.binding()
        c.close()

        binding = tp.encode(tp.BINDING, tp.REQUEST, [])
        expect_drip_closed(srv.ports["p"], binding, "plain TCP first frame dripped")
        expect_drip_closed(srv.ports["t"], hello, "TLS ClientHello dripped")

        time.sleep(0.5)
        fds1 = srv.nfds()
        tp.check(fds1 <= fds0, "no descriptor leaked (%d before, %d after)" % (fds0, fds1))
        tp.Client(tp.connect(srv.ports["p"])).binding()
        tp.Client(tp.connect(srv.ports["t"], tls=True)).binding()


if __name__ == "__main__":
    tp.main(test)
