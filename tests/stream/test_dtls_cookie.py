#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""DTLS: the first ClientHello is answered statelessly, a session needs a
valid cookie, and DTLS sessions are counted apart from TCP/TLS connections
(issue 16, item 5).

    test_dtls_cookie.py TURNPIKE [before]

On a dtls: and a tcp: listener with max-connections 20, max-dtls-sessions 3
and a 2 s handshake timeout, from raw UDP sockets on 127.0.4.x:
- 25 ClientHellos without a cookie (spoofable: nobody needs to receive the
  answer) get a HelloVerifyRequest each, no larger than the ClientHello, and
  TCP clients are still served (before: 25 sessions filled max-connections);
- a cookie made for another address, or altered, gets a HelloVerifyRequest
  again, not a ServerHello;
- a ClientHello with its own cookie gets a ServerHello (a session), for three
  addresses; the fourth is not answered (max-dtls-sessions) while TCP clients
  are still served; once the half-open sessions time out it gets one;
- a real client (openssl s_client) completes a handshake through the cookie
  exchange;
- max-connections-per-ip also caps DTLS sessions per source address.
"before" skips max-dtls-sessions (an option the unfixed server does not know)
and the checks that need it: to measure the unfixed server.
"""
import os
import shutil
import socket
import subprocess
import time

import tpstream as tp

HS = 2


class Peer:
    def __init__(self, ip, port):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind((ip, 0))
        self.to = ("127.0.0.1", port)
        self.rnd = os.urandom(32)

    def send(self, cookie=b""):
        """Send a ClientHello (with cookie: the second, message_seq 1); its size."""
        req = tp.dtls_client_hello(cookie, 1 if cookie else 0, self.rnd)
        self.s.sendto(req, self.to)
        return len(req)

    def recv(self, wait):
        """The first datagram of the answer (None: none), the rest of it read."""
        self.s.settimeout(wait)
        try:
            d, _ = self.s.recvfrom(65536)
        except socket.timeout:
            return None
        try:   # the rest of a flight
            self.s.settimeout(0.1)
            while True:
                self.s.recvfrom(65536)
        except socket.timeout:
            pass
        return d

    def ask(self, cookie=b"", wait=1.0):
        n = self.send(cookie)
        return self.recv(wait), n


def tcp_served(port, label):
    served = 0
    for k in range(5):
        try:
            c = tp.Client(tp.connect(port, src="127.0.5.%d" % (k + 1), timeout=1))
            c.binding()
            c.close()
            served += 1
        except (OSError, EOFError, tp.Fail):
            pass
    tp.check(served == 5, "%s: %d of 5 TCP clients served" % (label, served))


def s_client(port):
    if not shutil.which("openssl"):
        return None
    r = subprocess.run(["timeout", "10", "openssl", "s_client", "-dtls1_2", "-connect",
                        "127.0.0.1:%d" % port, "-bind", "127.0.0.77:0"],
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    return r.returncode, r.stdout.decode(errors="replace")


def per_ip(binary):
    """max-connections-per-ip caps DTLS sessions per source address too (two
    workers: the count spans them)."""
    opts = {"handshake-timeout": str(HS), "max-connections-per-ip": "2", "workers": "2"}
    with tp.Server(binary, {"d": "dtls"}, opts, tls=True) as srv:
        D = srv.ports["d"]
        mine = [Peer("127.0.6.1", D) for _ in range(4)]
        got = []
        for p in mine + [Peer("127.0.6.2", D)]:
            d, _ = p.ask()
            d, _ = p.ask(tp.dtls_hvr_cookie(d))
            got.append(tp.dtls_handshake_type(d) if d else None)
        tp.log("four ports of 127.0.6.1, then 127.0.6.2, with valid cookies: %s" % got)
        tp.check(got == [2, 2, None, None, 2], "two sessions for one address "
                 "(max-connections-per-ip 2), and one for another address")
        tp.check(srv.alive(), "server still running")


def test(binary, before=None):
    # one worker: max-connections (and the unfixed DTLS count) is per worker
    opts = {"handshake-timeout": str(HS), "max-connections": "20", "workers": "1"}
    if not before:
        opts["max-dtls-sessions"] = "3"
    with tp.Server(binary, {"d": "dtls", "t": "tcp"}, opts, tls=True) as srv:
        D, T = srv.ports["d"], srv.ports["t"]
        fds0 = srv.nfds()
        peers = [Peer("127.0.4.%d" % (k + 1), D) for k in range(25)]
        cookies, kinds, worst = [], [], 0.0
        sent = [p.send() for p in peers]    # all at once, within the handshake timeout
        time.sleep(0.2)
        tcp_served(T, "right after 25 spoofable ClientHellos (max-connections 20)")
        for p, n in zip(peers, sent):
            d = p.recv(1.0)
            kinds.append(tp.dtls_handshake_type(d) if d else None)
            cookies.append(tp.dtls_hvr_cookie(d) if d and tp.dtls_handshake_type(d) == 3 else b"")
            worst = max(worst, len(d) / n if d else 0)
        tp.log("25 ClientHellos without a cookie: answers %s, largest answer/request %.2f" %
               (kinds, worst))
        tp.expect(kinds == [3] * 25, "each ClientHello without a cookie got a "
                  "HelloVerifyRequest")
        tp.expect(worst <= 1.0, "no answer is larger than its ClientHello (%.2f)" % worst)
        tp.expect(len(set(cookies)) == 25, "a cookie per address")
        tp.check(srv.nfds() == fds0, "no descriptor per ClientHello")
        if before:
            return

        d, _ = peers[0].ask(cookies[1])
        tp.check(d is not None and tp.dtls_handshake_type(d) == 3,
                 "another address's cookie: a HelloVerifyRequest again (%s)" %
                 (tp.dtls_handshake_type(d) if d else None))
        bad = bytes([cookies[0][0] ^ 1]) + cookies[0][1:]
        d, _ = peers[0].ask(bad)
        tp.check(d is not None and tp.dtls_handshake_type(d) == 3,
                 "an altered cookie: a HelloVerifyRequest again")
        for k in range(3):
            d, _ = peers[k].ask(cookies[k])
            tp.check(d is not None and tp.dtls_handshake_type(d) == 2,
                     "%s with its cookie: ServerHello (a session)" % peers[k].s.getsockname()[0])
        d, _ = peers[3].ask(cookies[3])
        tp.check(d is None, "a fourth session is refused (max-dtls-sessions 3): %s" %
                 (tp.dtls_handshake_type(d) if d else "no answer"))
        tcp_served(T, "with max-dtls-sessions reached")
        time.sleep(HS + 1)
        d, _ = peers[3].ask(cookies[3])
        tp.check(d is not None and tp.dtls_handshake_type(d) == 2,
                 "once the half-open sessions timed out, the fourth gets its ServerHello")
        r = s_client(D)
        if r is None:
            tp.log("openssl not found: no full handshake checked")
        else:
            rc, out = r
            ok = "DTLSv1.2" in out and "Cipher is" in out and "Cipher is (NONE)" not in out
            if not ok:
                tp.log(out[-3000:])
            tp.check(ok, "openssl s_client completes a DTLS 1.2 handshake (exit %d)" % rc)
        tp.check(srv.alive(), "server still running")
    per_ip(binary)


if __name__ == "__main__":
    tp.main(test)
