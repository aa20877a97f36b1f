#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""PROXY protocol v1/v2 on tcp: and tls: listeners, over raw sockets.

    test_proxy.py TURNPIKE

The server (one worker: the refusal log's tables are per worker) has a tcp:
and a tls: listener with proxy-protocol, trusting 127.0.0.1/32 and
127.0.1.0/24, and a plain tcp: listener. This program plays the load
balancer: it writes the header itself (v1 lines, v2 blocks, byte by byte,
with TLVs, LOCAL, UNKNOWN), then speaks STUN (in TLS on the tls: listener),
and checks that XOR-MAPPED-ADDRESS and the allocation's log line carry the
address in the header. Then every refusal, each from its own source address
(refusals are logged once per source and minute): no header from a trusted
source, a source outside proxy-trusted (127.0.2.x), a header on the plain
listener, malformed headers, a second header, a header cut short (closed at
handshake-timeout); each is logged and counted exactly in
turnpike_dropped_total{cause="proxy_protocol"}. A burst of 12 from one
source is logged once and counted 12 times; a refusal from a second source
then logs its own line saying "11 more not logged". max-connections-per-ip
counts the clients in the headers,
not the proxy. (A real HAProxy in front: test_haproxy.py.)
"""
import re
import socket
import ssl
import struct
import subprocess
import time
import urllib.request

import tpstream as tp

V2SIG = b"\r\n\r\n\0\r\nQUIT\n"
TRUSTED, UNTRUSTED = "127.0.0.1", "127.0.0.2"
MORE_TRUSTED, MORE_UNTRUSTED = "127.0.1.%d", "127.0.2.%d"  # a source per refusal


def v1(src, sport, dst, dport):
    return ("PROXY TCP4 %s %s %d %d\r\n" % (src, dst, sport, dport)).encode()


def v2(src, sport, dst, dport, cmd=1, fam=0x11, tlvs=b""):
    body = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!HH", sport, dport)
    body += tlvs
    return V2SIG + struct.pack("!BBH", 0x20 | cmd, fam, len(body)) + body


def raw(port, src=TRUSTED):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    return s


def xor6(v, tid):
    """An IPv6 XOR-*-ADDRESS value: (host, port)."""
    if not v or v[1] != 2:
        return None
    key = struct.pack("!I", tp.MAGIC) + tid
    ip = bytes(a ^ b for a, b in zip(v[4:20], key))
    return socket.inet_ntop(socket.AF_INET6, ip), struct.unpack("!H", v[2:4])[0] ^ (tp.MAGIC >> 16)


def mapped(sock):
    return tp.unxor_addr(tp.Client(sock).binding().get(tp.A_XOR_MAPPED))


def metric(port, name, labels):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as r:
        text = r.read().decode()
    for line in text.splitlines():
        if line.startswith(name + "{" + labels + "} "):
            return float(line.split()[-1])
    return None


def tls_after_header(port, hdr):
    """TLS over memory BIOs, so the header and the ClientHello leave in one
    send(); then a Binding. Returns the XOR-MAPPED-ADDRESS."""
    s = raw(port)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = tp.tls_client_ctx().wrap_bio(inc, out)
    pending = hdr
    for _ in range(20):
        try:
            obj.do_handshake()
            break
        except ssl.SSLWantReadError:
            s.sendall(pending + out.read())
            pending = b""
            b = s.recv(65536)
            tp.check(b != b"", "TLS after a header in one segment: the server answers")
            inc.write(b)
    obj.write(tp.encode(tp.BINDING, tp.REQUEST, []))
    s.sendall(out.read())
    data = b""
    for _ in range(20):
        try:
            data += obj.read(65536)
        except ssl.SSLWantReadError:
            pass
        if len(data) >= 20 and len(data) >= 20 + struct.unpack("!H", data[2:4])[0]:
            break
        inc.write(s.recv(65536))
    s.close()
    return tp.unxor_addr(tp.Msg(data).get(tp.A_XOR_MAPPED))


def wait_drops(port, base, want, secs=4):
    """The proxy_protocol drop count above base once it reaches want (metrics are
    gathered from the workers about once a second), or the last seen."""
    got = None
    for _ in range(int(secs * 10)):
        got = metric(port, "turnpike_dropped_total", 'cause="proxy_protocol"') - base
        if got >= want:
            break
        time.sleep(0.1)
    return got


def proxied(srv, hdr, tls=False, trickle=False, src=TRUSTED):
    s = raw(srv.ports["pt" if tls else "p"], src)
    if trickle:
        for i in range(len(hdr)):
            s.sendall(hdr[i:i + 1])
            time.sleep(0.005)
    else:
        s.sendall(hdr)
    if tls:
        s = tp.tls_client_ctx().wrap_socket(s)
    return s


def test_addresses(srv):
    pp, pt = srv.ports["p"], srv.ports["pt"]
    s = proxied(srv, v1("192.0.2.7", 50000, "127.0.0.1", pp))
    tp.check(mapped(s) == ("192.0.2.7", 50000), "v1 over tcp: XOR-MAPPED-ADDRESS is the header's")
    m = tp.Client(s).request(tp.ALLOCATE, [(tp.A_REQ_TRANSPORT, bytes([17, 0, 0, 0]))])
    tp.check(m.cls == tp.SUCCESS and tp.unxor_addr(m.get(tp.A_XOR_MAPPED)) ==
             ("192.0.2.7", 50000), "v1 over tcp: Allocate succeeds, mapped to the header's")
    # a second connection naming the same client while its allocation lives
    dup = proxied(srv, v1("192.0.2.7", 50000, "127.0.0.1", pp))
    refused(srv, "a second connection naming 192.0.2.7:50000", dup,
            tp.encode(tp.BINDING, tp.REQUEST, []))
    tp.check(mapped(s) == ("192.0.2.7", 50000), "... while the first one keeps working")
    s.close()

    s = proxied(srv, v2("192.0.2.8", 50001, "127.0.0.1", pp), trickle=True)
    tp.check(mapped(s) == ("192.0.2.8", 50001), "v2 over tcp, one byte at a time: the header's")
    s.close()

    # the header and the ClientHello in one segment, as a balancer may send them
    tp.check(tls_after_header(pt, v2("198.51.100.8", 39999, "127.0.0.1", pt)) ==
             ("198.51.100.8", 39999), "v2 and the ClientHello in one segment: the header's")

    s = proxied(srv, v2("198.51.100.9", 40000, "127.0.0.1", pt), tls=True)
    tp.check(mapped(s) == ("198.51.100.9", 40000), "v2 then TLS: the header's address")
    s.close()
    s = proxied(srv, v1("198.51.100.10", 40001, "127.0.0.1", pt), tls=True)
    tp.check(mapped(s) == ("198.51.100.10", 40001), "v1 then TLS: the header's address")
    s.close()
    s = proxied(srv, v1("198.51.100.11", 40002, "127.0.0.1", pt))
    tp.check(mapped(s) == ("198.51.100.11", 40002), "v1 then plain TURN on the tls: listener")
    s.close()

    # an IPv6 client through a proxy that reaches the server over IPv4
    s = proxied(srv, b"PROXY TCP6 2001:db8::7 ::1 4242 %d\r\n" % pp)
    c = tp.Client(s)
    tid = bytes(range(12))
    m = c.request(tp.ALLOCATE, [(tp.A_REQ_TRANSPORT, bytes([17, 0, 0, 0]))], tid=tid)
    tp.check(m.cls == tp.SUCCESS and xor6(m.get(tp.A_XOR_MAPPED), tid) == ("2001:db8::7", 4242),
             "v1 TCP6 on an IPv4 listener: Allocate succeeds, mapped [2001:db8::7]:4242")
    s.close()

    tlvs = b"\x01\x00\x09stun.turn" + b"\x04\x00\x03\0\0\0"
    s = proxied(srv, v2("192.0.2.9", 1, "127.0.0.1", pp, tlvs=tlvs))
    tp.check(mapped(s) == ("192.0.2.9", 1), "v2 with TLVs (ALPN, NOOP): skipped")
    s.close()

    for label, hdr in (("v2 LOCAL", v2("192.0.2.10", 2, "127.0.0.1", pp, cmd=0)),
                       ("v1 UNKNOWN", b"PROXY UNKNOWN\r\n"),
                       ("v2 PROXY UNSPEC", V2SIG + b"\x21\x00\x00\x00")):
        s = proxied(srv, hdr)
        own = s.getsockname()
        tp.check(mapped(s) == own, "%s: the proxy's own address %s:%d" % (label, own[0], own[1]))
        s.close()

    log = srv.read_log()
    tp.check(re.search(r"allocat.*\[tcp 192\.0\.2\.7:50000", log) is not None,
             "the allocation's log lines name the client 192.0.2.7:50000")


def refused(srv, label, sock, payload=b"", within=3.0):
    if payload:
        try:
            sock.sendall(payload)
        except OSError:
            pass
    t = tp.closed_by_peer(sock, within)
    sock.close()
    tp.check(t is not None, "%s: closed (after %.2f s)" % (label, t or -1))
    return t


def proxy_lines(log, ip):
    """The PROXY refusal lines logged under source ip."""
    return [l for l in log.splitlines()
            if " W proxy-protocol:" in l and re.search(r"\[t(cp|ls) %s:" % re.escape(ip), l)]


def wait_logged(srv, mark, ip, n=1):
    for _ in range(40):
        got = proxy_lines(srv.read_log()[mark:], ip)
        if len(got) >= n:
            return got
        time.sleep(0.05)
    return proxy_lines(srv.read_log()[mark:], ip)


def wait_quiet_minute():
    """Start a burst early in a monotonic minute (the server's minute is its
    monotonic clock's, as Python's), so it cannot straddle two."""
    for _ in range(12):
        if time.monotonic() % 60 < 50:
            return
        time.sleep(1)


def test_refusals(srv, mport):
    pp, plain = srv.ports["p"], srv.ports["t"]
    binding = tp.encode(tp.BINDING, tp.REQUEST, [])
    # the gauge is gathered about once a second: let earlier refusals arrive
    base = None
    for _ in range(5):
        time.sleep(1.1)
        b = metric(mport, "turnpike_dropped_total", 'cause="proxy_protocol"')
        if b == base:
            break
        base = b
    n = 0
    T = [MORE_TRUSTED % i for i in range(10, 20)]
    U = [MORE_UNTRUSTED % i for i in range(10, 20)]
    cases = [
        ("no header from a trusted source", T[0], pp, binding,
         "no PROXY header from a trusted source"),
        ("a valid header from an untrusted source", U[0], pp,
         v1("192.0.2.20", 1, "127.0.0.1", pp) + binding, "source not in proxy-trusted"),
        ("STUN from an untrusted source on the proxy listener", U[1], pp, binding,
         "source not in proxy-trusted"),
        ("v1 on the plain tcp: listener", T[1], plain, v1("192.0.2.21", 1, "127.0.0.1", plain)
         + binding, "PROXY header on a listener without proxy-protocol"),
        ("v2 on the plain tcp: listener", U[2], plain,
         v2("192.0.2.22", 1, "127.0.0.1", plain) + binding,
         "PROXY header on a listener without proxy-protocol"),
        ("a leading zero in a v1 port", T[2], pp, b"PROXY TCP4 192.0.2.1 127.0.0.1 01 2\r\n",
         "malformed PROXY header: v1: a port"),
        ("v1 without CRLF in 107 bytes", T[3], pp, b"PROXY UNKNOWN " + b"x" * 150,
         "malformed PROXY header: v1: no CRLF"),
        ("v2 UDP", T[4], pp, v2("192.0.2.23", 1, "127.0.0.1", pp, fam=0x12),
         "malformed PROXY header: v2: UDP"),
        ("v2 longer than 536 bytes", T[5], pp, V2SIG + b"\x21\x11\x02\x09",
         "malformed PROXY header: v2: header longer"),
        ("a second header behind the first", T[6], pp,
         v1("192.0.2.24", 1, "127.0.0.1", pp) + v1("192.0.2.25", 1, "127.0.0.1", pp),
         "a second PROXY header"),
    ]
    for label, src, port, payload, why in cases:
        mark = len(srv.read_log())
        refused(srv, label, raw(port, src), payload)
        n += 1
        if why == "a second PROXY header":
            src = "192.0.2.24"  # the first header named the client
        got = wait_logged(srv, mark, src)
        tp.check(len(got) == 1 and why in got[0] and
                 "closing (logged once a minute per source)" in got[0],
                 "%s: logged once under %s (%r): %r" % (label, src, why, got))

    # a header cut short is closed at handshake-timeout (2 s), not before
    s = raw(pp)
    s.sendall(b"PROXY TCP4 192.0.2.")
    t = refused(srv, "a header cut short", s, within=6)
    tp.check(1.5 <= t <= 4.5, "a header cut short: closed at handshake-timeout (%.2f s)" % t)

    got = wait_drops(mport, base, n)
    tp.check(got == n, "turnpike_dropped_total{cause=\"proxy_protocol\"} counts each refusal "
             "(%d of %d; the timeout counts as a timeout)" % (got, n))

    # a burst from one source: counted one by one, logged once in the minute
    burst, other = T[9], U[9]
    wait_quiet_minute()
    mark = len(srv.read_log())
    socks = [raw(pp, burst) for _ in range(12)]
    for s in socks:
        s.sendall(b"PROXY TCP9\r\n")
    for s in socks:
        tp.closed_by_peer(s, 3)
        s.close()
    got = wait_drops(mport, base, n + 12)
    time.sleep(1.2)
    got = wait_drops(mport, base, n + 12)  # and no more
    tp.check(got == n + 12, "a burst of 12 malformed headers from %s: all 12 counted (%d)" %
             (burst, got - n))
    lines = proxy_lines(srv.read_log()[mark:], burst)
    tp.check(len(lines) == 1 and "malformed PROXY header" in lines[0] and
             "more not logged" not in lines[0],
             "... and logged once (%d lines: %r)" % (len(lines), lines))
    tp.check(len([l for l in srv.read_log()[mark:].splitlines() if " W proxy-protocol:" in l]) == 1,
             "... no other PROXY refusal line")
    # a second source's refusal logs its own line, with the burst's 11 unlogged
    mark = len(srv.read_log())
    refused(srv, "a refusal from %s (untrusted) after the burst" % other, raw(pp, other), binding)
    got = wait_logged(srv, mark, other)
    tp.check(len(got) == 1 and "source not in proxy-trusted" in got[0] and
             "(logged once a minute per source; 11 more not logged since the last such line)"
             in got[0], "... logs its own line saying 11 more not logged (%r)" % got)
    # the burst's source is still within its minute: counted, not logged
    mark = len(srv.read_log())
    refused(srv, "one more from %s" % burst, raw(pp, burst), b"PROXY TCP9\r\n")
    got = wait_drops(mport, base, n + 14)
    tp.check(got == n + 14, "... counted (%d of %d)" % (got - n, 14))
    tp.check(proxy_lines(srv.read_log()[mark:], burst) == [],
             "... and not logged again in the minute")
    tp.check(srv.alive(), "server still running")


def test_per_ip(srv):
    pp = srv.ports["p"]
    same = []
    for i in range(2):
        s = proxied(srv, v1("192.0.2.50", 1000 + i, "127.0.0.1", pp))
        tp.check(mapped(s) == ("192.0.2.50", 1000 + i), "client 192.0.2.50 connection %d" % i)
        same.append(s)
    s = proxied(srv, v1("192.0.2.50", 1002, "127.0.0.1", pp))
    refused(srv, "a third connection from 192.0.2.50 (max-connections-per-ip 2)", s)
    for _ in range(20):
        if re.search(r"connection refused: max-connections-per-ip 2 reached.*\[tcp "
                     r"192\.0\.2\.50:1002\]", srv.read_log()):
            break
        time.sleep(0.05)
    tp.check(re.search(r"connection refused: max-connections-per-ip 2 reached.*\[tcp "
                       r"192\.0\.2\.50:1002\]", srv.read_log()) is not None,
             "... logged under the client's address, not the proxy's")
    # LOCAL (health checks) keep the proxy's own address, which is not capped:
    # three held open at once with max-connections-per-ip 2
    local = []
    for i in range(3):
        s = proxied(srv, v2("192.0.2.70", 3000 + i, "127.0.0.1", pp, cmd=0))
        tp.check(mapped(s) == s.getsockname(),
                 "LOCAL connection %d from the proxy's own address: served" % i)
        local.append(s)
    for s in local:
        s.close()
    others = []
    for i in range(4):
        s = proxied(srv, v2("192.0.2.%d" % (60 + i), 2000, "127.0.0.1", pp))
        tp.check(mapped(s) == ("192.0.2.%d" % (60 + i), 2000),
                 "client 192.0.2.%d through the same proxy: served" % (60 + i))
        others.append(s)
    tp.check(len(same) + len(others) > 2, "the proxy's own address is not capped (6 open)")
    same[0].close()
    time.sleep(0.3)
    s = proxied(srv, v1("192.0.2.50", 1003, "127.0.0.1", pp))
    tp.check(mapped(s) == ("192.0.2.50", 1003),
             "after one of 192.0.2.50's closes, a new one fits (released under its address)")
    for x in same[1:] + others + [s]:
        x.close()


def test(binary):
    mport = tp.free_port()
    opts = {"proxy-trusted": '[ "127.0.0.1/32", "127.0.1.0/24" ]', "handshake-timeout": "2",
            "workers": "1",
            "max-connections-per-ip": "2", "metrics": '"http:127.0.0.1:%d"' % mport}
    srv = tp.Server(binary, {"p": "tcp proxy-protocol", "pt": "tls proxy-protocol", "t": "tcp"},
                    opts, tls=True)
    r = subprocess.run([binary, "--check-config", "-c", srv.conf_path], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=20)
    out = r.stdout.decode(errors="replace")
    tp.check(r.returncode == 0 and
             ("listen tcp 127.0.0.1:%d (PROXY protocol header required" % srv.ports["p"]) in out
             and ("listen tcp 127.0.0.1:%d\n" % srv.ports["t"]) in out,
             "--check-config says which listeners need a PROXY header (%r)" % out[:300])
    with srv:
        test_addresses(srv)
        test_per_ip(srv)
        test_refusals(srv, mport)


if __name__ == "__main__":
    tp.main(test)
