#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A control connection that floods the server with tiny frames must not grow
its memory (issue 16, item 3).

    test_input_flood.py TURNPIKE tls|tcp

Three clients on one tls: (or tcp:) listener send empty ChannelData frames
(4 bytes each, the most frames per byte a stream can carry) as fast as the
server takes them, for FLOOD_S seconds or FLOOD_MB megabytes each. The
server must read no faster than it processes: its VmRSS may grow by less than
what it is configured to buffer for these connections (a read high watermark
and stream-buffer of output each) plus allocator slack. Before the fix the
OpenSSL bufferevent read whole TLS records while the frame budget consumed
256 bytes a wakeup: RSS grew by hundreds of MB. Afterwards each flooding
connection still answers a Binding (nothing was lost or stalled), and another
client is served meanwhile.
"""
import socket
import threading
import time

import tpstream as tp

NCONN = 3
FLOOD_S = 4.0
FLOOD_MB = 256
CHUNK = b"\x40\x00\x00\x00" * (16 << 10)   # 64 KB of empty ChannelData (channel 0x4000)


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
    # per connection: the read high watermark (2 frames of 64 KB), a TLS
    # record, stream-buffer (256 KB) of output: under 0.5 MB; three of them
    # plus allocator slack. ASan keeps freed chunks in its quarantine
    # (quarantine_size_mb=8, see tpstream.py) and adds shadow memory.
    return 24 * 1024 if binary.endswith("-san") else 8 * 1024


def flooder(sock, stop, out, k):
    sent = 0
    t0 = time.time()
    try:
        while not stop.is_set() and sent < FLOOD_MB << 20 and time.time() - t0 < FLOOD_S:
            sock.sendall(CHUNK)
            sent += len(CHUNK)
        out[k] = (sent, None)
    except (OSError, socket.timeout) as e:
        out[k] = (sent, e)


def test(binary, mode):
    tls = mode == "tls"
    with tp.Server(binary, {"p": mode}, {"idle-timeout": "60"}, tls=tls) as srv:
        port = srv.ports["p"]
        for _ in range(3):   # let the allocator settle
            c = tp.Client(tp.connect(port, tls=tls))
            c.binding()
            c.close()
        time.sleep(0.3)
        base = srv.rss_kb()
        clients = []
        for k in range(NCONN):
            c = tp.Client(tp.connect(port, tls=tls, src="127.0.3.%d" % (k + 1), timeout=15))
            c.binding()
            clients.append(c)
        watch = RssWatch(srv)
        watch.start()
        stop, out = threading.Event(), {}
        ts = [threading.Thread(target=flooder, args=(c.sock, stop, out, k))
              for k, c in enumerate(clients)]
        t0 = time.time()
        for t in ts:
            t.start()
        time.sleep(FLOOD_S / 2)
        other = tp.Client(tp.connect(port, tls=tls, src="127.0.3.100", timeout=15))
        other.binding()
        other.close()
        for t in ts:
            t.join(FLOOD_S + 20)
        took = time.time() - t0
        sent = sum(out.get(k, (0, None))[0] for k in range(NCONN))
        errs = [out[k][1] for k in out if out[k][1] is not None]
        tp.log("%d connections sent %d MB of empty ChannelData in %.1f s" %
               (NCONN, sent >> 20, took))
        tp.check(not errs and len(out) == NCONN, "every flood ran to its end (%s)" % errs)
        time.sleep(0.5)
        watch.stop.set()
        watch.join()
        now = srv.rss_kb()
        grow = watch.peak - base
        tp.log("VmRSS: %d kB before, peak %d kB (+%d kB), 0.5 s after %d kB (+%d kB)" %
               (base, watch.peak, grow, now, now - base))
        tp.check(grow < limit_kb(binary), "server memory grew by %d kB (< %d kB) while %d "
                 "connections sent %d MB of tiny frames" % (grow, limit_kb(binary), NCONN,
                                                            sent >> 20))
        # each flooding connection is still served: its Binding is answered
        # once the frames ahead of it were processed
        for c in clients:
            c.binding()
        for c in clients:
            c.close()
        tp.check(srv.alive(), "server still running")


if __name__ == "__main__":
    tp.main(test)
