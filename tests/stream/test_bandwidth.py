#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Bandwidth caps, over real sockets on loopback:

- max-bps: a UDP flow offered at twice the cap, client to peer over a channel
  and peer to client, arrives at the cap (within 10%, measured at the
  receiver after the burst); the excess is counted as bandwidth drops; a flow
  at half the cap arrives whole with no drop counted;
- max-bps on an RFC 6062 pipe: a TCP client writing as fast as it can is
  slowed to the cap, nothing lost;
- user-max-bps: two allocations of one user, each offered above the cap,
  share it; another user's allocation is not held back by it;
- bps-capacity: while the server relays above it, a new Allocate gets 508
  with the reason; once the traffic stops, Allocate succeeds again.

Costs about 25 s (each measured flow runs 3 s).
"""
import re
import socket
import struct
import time
import urllib.request

import tpstream as tp

CAP = 100000          # bytes/s
SIZE = 1000           # datagram payload


def metrics(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        return r.read().decode()


def metric(text, name, labels):
    for line in text.splitlines():
        m = re.match(r"^([a-z_]+)(\{[^}]*\})? (\S+)$", line)
        if m and m.group(1) == name and m.group(2) == "{%s}" % labels:
            return float(m.group(3))
    return None


def bw_drops(port):
    return metric(metrics(port), "turnpike_dropped_total", 'cause="bandwidth"')


def paced(send, rate, secs):
    """Call send() for SIZE-byte datagrams at rate bytes/s for secs seconds."""
    n = int(rate * secs / SIZE)
    every = SIZE / rate
    t0 = time.monotonic()
    for i in range(n):
        d = t0 + i * every - time.monotonic()
        if d > 0:
            time.sleep(d)
        send()
    return n


def receive(sock, until, strip=0):
    """Datagrams until the monotonic deadline: (arrival time, payload bytes)."""
    got = []
    while True:
        left = until - time.monotonic()
        if left <= 0:
            return got
        sock.settimeout(left)
        try:
            b = sock.recv(65535)
        except socket.timeout:
            return got
        got.append((time.monotonic(), len(b) - strip))


def receive_stream(sock, until):
    """A TCP peer's reads until EOF or the deadline: (arrival time, bytes)."""
    got = []
    while True:
        left = until - time.monotonic()
        if left <= 0:
            return got
        sock.settimeout(left)
        try:
            b = sock.recv(65536)
        except socket.timeout:
            return got
        if not b:
            return got
        got.append((time.monotonic(), len(b)))


def rate_after_burst(got, start, skip=0.75):
    """Bytes per second received from start+skip to the last arrival."""
    win = [n for t, n in got if t >= start + skip]
    last = max((t for t, _ in got), default=start)
    span = last - (start + skip)
    return sum(win) / span if span > 0 else 0


def within(rate, cap, what):
    tp.check(abs(rate - cap) <= 0.10 * cap,
             "%s: %.0f B/s, within 10%% of the cap %d" % (what, rate, cap))


def udp_flow(cli, peer, num, rate, secs, to_peer=True):
    """Offer a flow at rate for secs; returns what the receiver saw."""
    import threading

    relay = cli.relay
    rx = peer if to_peer else cli.s
    got = []
    until = time.monotonic() + secs + 0.5
    t = threading.Thread(target=lambda: got.extend(receive(rx, until, 0 if to_peer else 4)))
    t.start()
    start = time.monotonic()
    payload = b"b" * SIZE
    if to_peer:
        paced(lambda: cli.chandata(num, payload), rate, secs)
    else:
        paced(lambda: peer.sendto(payload, relay), rate, secs)
    t.join()
    return start, got


def setup_udp(port, user=tp.USER, pw=tp.PASS):
    cli = tp.UdpClient(port, user=user, pw=pw)
    m = cli.allocate()
    tp.check(m.cls == tp.SUCCESS, "UDP Allocate (%s)" % user)
    cli.relay = tp.unxor_addr(m.get(tp.A_XOR_RELAYED))
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
    cli.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
    m = cli.channel_bind(0x4000, *peer.getsockname())
    tp.check(m.cls == tp.SUCCESS, "ChannelBind")
    return cli, peer


def test_max_bps(binary):
    mport = tp.free_port()
    with tp.Server(binary, {"u": "udp", "t": "tcp"},
                   {"max-bps": str(CAP), "metrics": '"http:127.0.0.1:%d"' % mport}) as srv:
        cli, peer = setup_udp(srv.ports["u"])

        # under the cap: everything arrives, nothing is counted as dropped
        start, got = udp_flow(cli, peer, 0x4000, CAP // 2, 2)
        sent = int(CAP // 2 * 2 / SIZE)
        tp.check(len(got) == sent, "at half the cap all %d datagrams arrive (%d)" %
                 (sent, len(got)))
        tp.check(bw_drops(mport) == 0, "no bandwidth drops under the cap")

        # twice the cap, client to peer
        start, got = udp_flow(cli, peer, 0x4000, 2 * CAP, 3)
        within(rate_after_burst(got, start), CAP, "client->peer at twice the cap")
        d1 = bw_drops(mport)
        tp.check(d1 > 0.3 * 2 * CAP * 3 / SIZE, "the excess is counted as bandwidth drops (%d)"
                 % d1)

        # twice the cap, peer to client: its own budget
        time.sleep(0.5)
        start, got = udp_flow(cli, peer, 0x4000, 2 * CAP, 3, to_peer=False)
        within(rate_after_burst(got, start), CAP, "peer->client at twice the cap")
        tp.check(bw_drops(mport) > d1, "... and counted")

        # an RFC 6062 pipe: 4 s worth at the cap, written at once and closed;
        # it arrives at the cap (TCP flow control holds the writer), whole
        ctl, ls, ps, d = tp.connect_pipe(srv.ports["t"])
        total = 4 * CAP
        t0 = time.monotonic()
        d.sock.sendall(b"p" * total)
        d.sock.close()
        wrote = time.monotonic() - t0
        arrivals = receive_stream(ps, time.monotonic() + 15)
        recv = sum(n for _, n in arrivals)
        tp.check(recv == total, "every byte written into the pipe before the close reaches "
                 "the peer (%d of %d)" % (recv, total))
        within(rate_after_burst(arrivals, t0), CAP, "RFC 6062 pipe (the writer took %.2f s)"
               % wrote)
        tp.check(srv.alive(), "server still running")


def test_user_max_bps(binary):
    with tp.Server(binary, {"u": "udp"}, {"user-max-bps": str(CAP)}) as srv:
        a1, p1 = setup_udp(srv.ports["u"])
        a2, p2 = setup_udp(srv.ports["u"])
        b, pb = setup_udp(srv.ports["u"], user="bob", pw="bobpw")
        import threading

        res = {}

        def run(name, cli, peer, rate):
            res[name] = udp_flow(cli, peer, 0x4000, rate, 3)

        ts = [threading.Thread(target=run, args=x) for x in
              (("a1", a1, p1, CAP), ("a2", a2, p2, CAP), ("b", b, pb, 0.8 * CAP))]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        start = min(res["a1"][0], res["a2"][0])
        alice = rate_after_burst(res["a1"][1] + res["a2"][1], start)
        within(alice, CAP, "alice's two allocations together (user-max-bps)")
        r1 = rate_after_burst(res["a1"][1], start)
        r2 = rate_after_burst(res["a2"][1], start)
        # each allocation is held to its fair share when both want more
        tp.check(r1 > 0.4 * CAP and r2 > 0.4 * CAP, "both get a fair share (%.0f, %.0f)" %
                 (r1, r2))
        bob = rate_after_burst(res["b"][1], res["b"][0])
        tp.check(bob > 0.9 * 0.8 * CAP, "bob, under the cap, is not held back (%.0f B/s)" % bob)


def test_capacity(binary):
    with tp.Server(binary, {"u": "udp"}, {"bps-capacity": str(CAP)}) as srv:
        cli, peer = setup_udp(srv.ports["u"])
        import threading

        t = threading.Thread(target=udp_flow, args=(cli, peer, 0x4000, 2 * CAP, 3))
        t.start()
        time.sleep(2.2)  # the server's rate is taken each second
        late = tp.UdpClient(srv.ports["u"], user="bob", pw="bobpw")
        m = late.allocate()
        t.join()
        tp.check(m.cls == tp.ERROR and m.code() == 508 and "bps-capacity" in m.reason(),
                 "over bps-capacity a new Allocate gets 508 with the reason (%r)" % m)
        time.sleep(2.5)
        m = late.allocate()
        tp.check(m.cls == tp.SUCCESS, "traffic stopped: Allocate succeeds (%r)" % m)


def test(binary):
    test_max_bps(binary)
    test_user_max_bps(binary)
    test_capacity(binary)


if __name__ == "__main__":
    tp.main(test)
