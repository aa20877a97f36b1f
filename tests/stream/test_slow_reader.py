#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A slow stream reader must not grow the server's memory.

    test_slow_reader.py TURNPIKE udp|pipe

udp:  a TURN/TCP client with a UDP allocation stops reading while a peer sends
      it 40 MB of UDP data: the server drops what does not fit (stream-buffer).
udp-tls: the same over TLS.
pipe: an RFC 6062 pipe whose client stops reading while the peer pushes 40 MB
      over TCP: the server stops reading the peer (flow control), the peer's
      sends stall, and everything arrives intact once the client reads again.
Both: the server's VmRSS grows by less than a few MB, and other clients are
served meanwhile.
"""
import hashlib
import os
import select
import socket
import struct
import threading
import time

import tpstream as tp

TOTAL = 40 << 20
CHUNK = 1000


class RssWatch(threading.Thread):
    def __init__(self, srv):
        super().__init__(daemon=True)
        self.srv, self.peak, self.stop = srv, 0, threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                self.peak = max(self.peak, self.srv.rss_kb())
            except (OSError, tp.Fail):
                return
            time.sleep(0.02)


def limit_kb(binary):
    # ASan's allocator keeps freed chunks in a quarantine and per-size caches
    return 20 * 1024 if binary.endswith("-san") else 6 * 1024


def other_client_served(port, label, tls=False):
    t0 = time.time()
    c = tp.Client(tp.connect(port, tls=tls, src="127.0.0.7"))
    c.allocate()
    c.close()
    took = time.time() - t0
    # liveness, not speed (no timing assertions on a shared machine): the
    # other client is served while the flood goes on, well within the timeout
    tp.check(took < 10.0, "%s: another client allocated in %.2f s" % (label, took))


def warm_up(srv, port, tls=False):
    # let the allocator settle with a few allocations and frees
    for _ in range(3):
        c = tp.Client(tp.connect(port, tls=tls))
        c.allocate()
        c.close()
    time.sleep(0.3)
    return srv.rss_kb()


def udp_mode(binary, srv, tls=False):
    port = srv.ports["p"]
    base = warm_up(srv, port, tls)
    slow = tp.Client(tp.connect(port, tls=tls, rcvbuf=4096))
    relay = slow.allocate()
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    slow.permit("127.0.0.1")
    watch = RssWatch(srv)
    watch.start()
    payload = os.urandom(CHUNK)
    sent = 0
    t0 = time.time()
    while sent < TOTAL:
        try:
            peer.sendto(payload, relay)
            sent += CHUNK
        except BlockingIOError:
            time.sleep(0.001)
        if sent % (10 << 20) < CHUNK:
            other_client_served(port, "during the UDP flood (%d MB sent)" % (sent >> 20), tls)
    tp.log("peer sent %d MB in %.1f s" % (sent >> 20, time.time() - t0))
    time.sleep(0.5)
    watch.stop.set()
    watch.join()
    grow = watch.peak - base
    tp.log("VmRSS: %d kB before, peak %d kB, now %d kB" % (base, watch.peak, srv.rss_kb()))
    tp.check(grow < limit_kb(binary), "server memory grew by %d kB (< %d kB) while %d MB "
             "were sent to a client that does not read" % (grow, limit_kb(binary), sent >> 20))
    # the slow client reads again: what was queued arrives framed, then it works.
    # Its receive buffer grows first: with the 4 KB one, loopback TCP can fall
    # into window probes that move one segment per 200 ms, and the megabytes
    # the kernel queued on the server's side would take minutes to drain.
    slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    slow.sock.settimeout(1.0)
    frames = 0
    deadline = time.time() + 30
    try:
        while time.time() < deadline:
            kind, raw = tp.read_frame(slow.sock)
            m = tp.Msg(raw) if kind == "stun" else None
            if m is None or m.method != tp.DATA or m.get(tp.A_DATA) != payload:
                raise tp.Fail("unexpected frame while draining: %s %r" % (kind, m))
            frames += 1
    except socket.timeout:
        pass
    tp.check(frames > 0, "the slow client then reads %d Data indications, intact" % frames)
    m = slow.request(tp.REFRESH, [(tp.A_LIFETIME, struct.pack("!I", 60))])
    tp.check(m.cls == tp.SUCCESS, "the slow client's connection still works")
    slow.close()


def pipe_mode(binary, srv):
    port = srv.ports["p"]
    base = warm_up(srv, port)
    ctl, ls, ps, data = tp.connect_pipe(port, rcvbuf=4096)
    ds = data.sock
    watch = RssWatch(srv)
    watch.start()
    block = os.urandom(64 << 10)
    ps.setblocking(False)
    sent, last_progress = 0, time.time()
    h_sent = hashlib.sha256()
    while sent < TOTAL and time.time() - last_progress < 2.0:
        _, w, _ = select.select([], [ps], [], 0.1)
        if not w:
            continue
        off = sent % len(block)
        try:
            n = ps.send(block[off:])
        except BlockingIOError:
            continue
        h_sent.update(block[off:off + n])
        sent += n
        last_progress = time.time()
    tp.log("peer: %.1f MB accepted before stalling" % (sent / 1048576))
    tp.check(sent < TOTAL, "the peer's sends stall while the client does not read "
             "(%.1f of %d MB)" % (sent / 1048576, TOTAL >> 20))
    other_client_served(port, "while a pipe is stalled")
    grow = watch.peak - base
    tp.log("VmRSS: %d kB before, peak %d kB" % (base, watch.peak))
    tp.check(grow < limit_kb(binary), "server memory grew by %d kB (< %d kB) with a stalled "
             "pipe" % (grow, limit_kb(binary)))
    # now the client reads: the rest flows and every byte arrives in order
    h_recv = hashlib.sha256()
    got = [0]

    ds.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)  # see udp_mode

    def reader():
        ds.settimeout(10)
        while got[0] < TOTAL:
            b = ds.recv(1 << 20)
            if not b:
                return
            h_recv.update(b)
            got[0] += len(b)

    t = threading.Thread(target=reader)
    t.start()
    ps.setblocking(True)
    ps.settimeout(20)
    while sent < TOTAL:
        off = sent % len(block)
        n = ps.send(block[off:off + min(len(block) - off, TOTAL - sent)])
        h_sent.update(block[off:off + n])
        sent += n
    t.join(30)
    watch.stop.set()
    watch.join()
    tp.check(got[0] == TOTAL and h_recv.digest() == h_sent.digest(),
             "all %d MB arrived intact once the client read (%d bytes)" % (TOTAL >> 20, got[0]))
    grow = watch.peak - base
    tp.check(grow < limit_kb(binary), "peak memory growth over the whole transfer %d kB" % grow)
    ps.close()
    ds.close()
    ctl.close()


def test(binary, mode):
    tls = mode == "udp-tls"
    with tp.Server(binary, {"p": "tls" if tls else "tcp"}, {"idle-timeout": "60"},
                   tls=tls) as srv:
        if mode == "pipe":
            pipe_mode(binary, srv)
        else:
            udp_mode(binary, srv, tls)
        tp.check(srv.alive(), "server still running")


if __name__ == "__main__":
    tp.main(test)
