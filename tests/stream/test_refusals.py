#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Issue 17 item 6: refusals are logged, once per source and minute.

    test_refusals.py TURNPIKE

One server (one worker: the tables are per worker) with small caps:
- max-connections-per-ip 2: 12 TCP connections from 127.0.7.1 and 7 from
  127.0.7.2: exactly one "connection refused" line per source, the second
  saying how many went unlogged before it (9);
- unauth-rate 1/s, burst 2: 20 Bindings from 127.0.8.1, then 20 from
  127.0.8.2: one "unauth-rate" line each, the second with 17 more dropped;
- user-quota 1: Allocates from three ports of 127.0.9.1 (one succeeds, two
  486) and two of 127.0.9.2 (486): one 486 line per source.
The default max-connections-per-ip is 1000 (was 64). The minute boundary is
avoided (the server's minute is its monotonic clock's, as Python's).
"""
import re
import socket
import subprocess
import time

import tpstream as tp


def lines(log, marker, ip):
    return [l for l in log.splitlines()
            if " W " in l and marker in l and re.search(r"[ \[]%s:" % re.escape(ip), l)]


def wait_quiet_minute():
    """Start a burst early in a monotonic minute (10 s of room at least)."""
    for _ in range(12):
        if time.monotonic() % 60 < 50:
            return
        time.sleep(1)


def conns(port, src, n):
    socks, refused = [], 0
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((src, 0))
        s.settimeout(2)
        s.connect(("127.0.0.1", port))
        socks.append(s)
    time.sleep(0.3)
    for s in socks:
        try:
            s.settimeout(0.2)
            if s.recv(1) == b"":
                refused += 1
        except socket.timeout:
            pass
        except OSError:
            refused += 1
    return socks, refused


def bindings(port, src, n):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.settimeout(0.3)
    for _ in range(n):
        s.sendto(tp.encode(tp.BINDING, tp.REQUEST, []), ("127.0.0.1", port))
    got = 0
    try:
        while True:
            s.recv(2048)
            got += 1
    except socket.timeout:
        pass
    s.close()
    return got


def test(binary):
    # the default (no configuration file: the built-in defaults)
    out = subprocess.run([binary, "--print-config"], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT).stdout.decode(errors="replace")
    tp.check(re.search(r"\nmax-connections-per-ip = 1000;", out) is not None,
             "the default max-connections-per-ip is 1000")

    opts = {"workers": "1", "max-connections-per-ip": "2", "unauth-rate": "1",
            "unauth-burst": "2", "user-quota": "1"}
    with tp.Server(binary, {"u": "udp", "t": "tcp"}, opts) as srv:
        wait_quiet_minute()
        a, ra = conns(srv.ports["t"], "127.0.7.1", 12)
        b, rb = conns(srv.ports["t"], "127.0.7.2", 7)
        tp.check(ra == 10 and rb == 5, "max-connections-per-ip 2: 10 and 5 refused (%d, %d)" %
                 (ra, rb))
        for s in a + b:
            s.close()

        ga = bindings(srv.ports["u"], "127.0.8.1", 20)
        gb = bindings(srv.ports["u"], "127.0.8.2", 20)
        tp.check(ga == 2 and gb == 2, "unauth-rate 1 burst 2: 2 of 20 answered each (%d, %d)" %
                 (ga, gb))

        codes = []
        clients = []
        for src in ("127.0.9.1", "127.0.9.1", "127.0.9.1", "127.0.9.2", "127.0.9.2"):
            c = tp.UdpClient(srv.ports["u"], src=src)
            clients.append(c)
            time.sleep(1.1)  # within unauth-rate: only the quota refuses
            m = c.allocate()
            codes.append(m.code())
        tp.check(codes == [0, 486, 486, 486, 486], "user-quota 1: one allocation, then 486s "
                 "(%s)" % codes)
        time.sleep(0.3)
        log = srv.read_log()

        for ip, want_more in (("127.0.7.1", None), ("127.0.7.2", 9)):
            got = lines(log, "connection refused: max-connections-per-ip 2 reached", ip)
            tp.log("\n".join(got))
            tp.check(len(got) == 1, "%s: exactly one refusal line for its %d refusals (%d)" %
                     (ip, 10 if ip.endswith(".1") else 5, len(got)))
            if want_more is not None:
                tp.check("; %d more not logged since the last such line" % want_more in got[0],
                         "it counts the 9 not logged before it")
            else:
                tp.check("more not logged" not in got[0], "the first says no more")
        for ip, want_more in (("127.0.8.1", None), ("127.0.8.2", 17)):
            got = lines(log, "over unauth-rate 1/s (burst 2): dropped", ip)
            tp.log("\n".join(got))
            tp.check(len(got) == 1, "%s: exactly one unauth-rate line for 18 drops (%d)" %
                     (ip, len(got)))
            if want_more is not None:
                tp.check("; %d more not logged since the last such line" % want_more in got[0],
                         "it counts the 17 not logged before it")
        for ip in ("127.0.9.1", "127.0.9.2"):
            got = lines(log, "486 Allocation Quota Reached", ip)
            tp.log("\n".join(got))
            tp.check(len(got) == 1 and "user-quota" in got[0],
                     "%s: exactly one 486 line (%d)" % (ip, len(got)))
        tp.check("; 1 more not logged" in lines(log, "486 Allocation", "127.0.9.2")[0],
                 "the second source's 486 line counts the one not logged")
        tp.check(srv.alive(), "server still running")


if __name__ == "__main__":
    tp.main(test)
