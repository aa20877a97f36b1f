#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Authentication under abuse, over UDP on loopback (issue: security hardening):

- online password guessing is throttled: after auth-fail-burst failed checks a
  source and a user name get auth-fail-rate checks a minute; requests beyond
  that are dropped unchecked, the right password included, until the budget
  refills; another user from another address is not affected;
- a random USERHASH costs no SHA-256 per configured user (4,000 users, 2,000
  requests: the server's CPU time stays far below one hash per user each);
- USERNAME with control characters (NUL, newline) is refused with 400, also
  for a REST credential whose HMAC is right;
- PASSWORD-ALGORITHMS must repeat the server's value byte for byte;
- a REST username whose expiry lies beyond max-credential-lifetime is 401.
"""
import base64
import hashlib
import hmac
import os
import socket
import struct
import time

import tpstream as tp

A_USERHASH, A_PW_ALG, A_PW_ALGS = 0x001E, 0x001D, 0x8002
SECRET = "abuse-secret"


class UdpClient:
    def __init__(self, port, src="127.0.0.1", user=tp.USER, pw=tp.PASS):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((src, 0))
        self.dst = ("127.0.0.1", port)
        self.user, self.pw = user, pw
        self.realm = self.nonce = self.algs = None

    def send(self, method, attrs, key, tid=None):
        tid = tid or os.urandom(12)
        self.sock.sendto(tp.encode(method, tp.REQUEST, attrs, tid, key), self.dst)
        return tid

    def recv(self, tid, timeout):
        end = time.time() + timeout
        while True:
            left = end - time.time()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                raw = self.sock.recv(4096)
            except socket.timeout:
                return None
            m = tp.Msg(raw)
            if m.tid == tid:
                return m

    def challenge(self):
        tid = self.send(tp.ALLOCATE, [(tp.A_REQ_TRANSPORT, b"\x11\0\0\0")], None)
        m = self.recv(tid, 2)
        tp.check(m is not None and m.code() == 401, "Allocate without credentials: 401")
        self.realm, self.nonce, self.algs = m.get(tp.A_REALM), m.get(tp.A_NONCE), m.get(A_PW_ALGS)

    def auth_attrs(self, user=None, extra=()):
        return ([(tp.A_USERNAME, (user if user is not None else self.user.encode()
                                  if isinstance(self.user, str) else self.user)),
                 (tp.A_REALM, self.realm), (tp.A_NONCE, self.nonce)] + list(extra))

    def allocate(self, pw=None, user=None, extra=(), timeout=1.0):
        u = user if user is not None else self.user.encode()
        key = hashlib.md5(u + b":" + self.realm + b":" + (pw or self.pw).encode()).digest()
        attrs = [(tp.A_REQ_TRANSPORT, b"\x11\0\0\0")] + self.auth_attrs(u, extra)
        tid = self.send(tp.ALLOCATE, attrs, key)
        return self.recv(tid, timeout)


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rest_user(expiry, name):
    return ("%d:%s" % (expiry, name)).encode()


def rest_pass(user):
    return base64.b64encode(hmac.new(SECRET.encode(), user, hashlib.sha1).digest()).decode()


def test_guessing(binary):
    opts = {"auth-fail-burst": "5", "auth-fail-rate": "20"}  # then one every 3 s
    with tp.Server(binary, {"u": "udp"}, opts) as srv:
        port = srv.ports["u"]
        g = UdpClient(port)
        g.challenge()
        answered = 0
        t0 = time.time()
        for i in range(40):
            key = hashlib.md5(b"alice:" + g.realm + b":guess%d" % i).digest()
            tid = g.send(tp.ALLOCATE, [(tp.A_REQ_TRANSPORT, b"\x11\0\0\0")] + g.auth_attrs(),
                         key)
            answered += g.recv(tid, 0.02) is not None
        tp.log("40 wrong guesses in %.2f s: %d answered" % (time.time() - t0, answered))
        tp.check(5 <= answered <= 7, "only about auth-fail-burst guesses checked (%d)" % answered)
        m = g.allocate(timeout=0.3)
        tp.check(m is None, "the right password right after the guesses: dropped unchecked")
        other = UdpClient(port, src="127.0.0.2")
        other.challenge()
        m = other.allocate(timeout=0.3)
        tp.check(m is None, "alice from another address: dropped too (the name's budget)")
        bob = UdpClient(port, src="127.0.0.3", user="bob", pw="bobpw")
        bob.challenge()
        m = bob.allocate()
        tp.check(m is not None and m.cls == tp.SUCCESS, "bob from another address: unaffected")
        time.sleep(3.2)  # one check every 3 s refills
        m = other.allocate()
        tp.check(m is not None and m.cls == tp.SUCCESS,
                 "3 s later the right password is checked and accepted (%r)" % m)
        tp.check("too many failed password checks" in srv.read_log(), "the drops are logged")


def test_userhash_cost(binary):
    users = ", ".join('{ name = "u%d"; password = "p%d"; }' % (i, i) for i in range(4000))
    opts = {"users": "( %s, { name = \"alice\"; password = \"alicepw\"; } )" % users,
            "auth-fail-rate": "0"}
    with tp.Server(binary, {"u": "udp"}, opts) as srv:
        c = UdpClient(srv.ports["u"])
        c.challenge()
        before = cpu_seconds(srv.proc.pid)
        tids = []
        for i in range(2000):
            attrs = [(tp.A_REQ_TRANSPORT, b"\x11\0\0\0"), (A_USERHASH, os.urandom(32)),
                     (tp.A_REALM, c.realm), (tp.A_NONCE, c.nonce)]
            tids.append(c.send(tp.ALLOCATE, attrs, os.urandom(16)))
            if i % 100 == 99:
                c.recv(tids[-1], 2)
        c.recv(tids[-1], 2)
        used = cpu_seconds(srv.proc.pid) - before
        tp.log("2,000 random USERHASH requests with 4,000 users: %.3f s of server CPU" % used)
        # one SHA-256 per user each would be ~2,000 x 4,000 hashes (seconds)
        tp.check(used < 0.5, "no hash per configured user (%.3f s CPU)" % used)
        # a real user by USERHASH still works
        uh = hashlib.sha256(b"alice:" + c.realm).digest()
        key = hashlib.md5(b"alice:" + c.realm + b":alicepw").digest()
        tid = c.send(tp.ALLOCATE, [(tp.A_REQ_TRANSPORT, b"\x11\0\0\0"), (A_USERHASH, uh),
                                   (tp.A_REALM, c.realm), (tp.A_NONCE, c.nonce)], key)
        m = c.recv(tid, 2)
        tp.check(m is not None and m.cls == tp.SUCCESS, "alice by USERHASH: allocated (%r)" % m)


def test_names_and_algs(binary):
    opts = {"static-auth-secret": '[ "%s" ]' % SECRET}
    with tp.Server(binary, {"u": "udp"}, opts) as srv:
        c = UdpClient(srv.ports["u"])
        c.challenge()
        exp = int(time.time()) + 3600
        for bad in (b"\0", b"\n"):
            u = rest_user(exp, "eve") + bad + b"x"
            m = c.allocate(pw=rest_pass(u), user=u)
            tp.check(m is not None and m.code() == 400,
                     "REST USERNAME with %r: 400 (%r)" % (bad, m))
        # max-credential-lifetime (default one day)
        u = rest_user(999999999999, "eve")
        m = c.allocate(pw=rest_pass(u), user=u)
        tp.check(m is not None and m.code() == 401, "expiry 999999999999: 401 (%r)" % m)
        tp.check("max-credential-lifetime" in srv.read_log(), "the reason is logged")
        u = rest_user(exp, "eve")
        m = c.allocate(pw=rest_pass(u), user=u)
        tp.check(m is not None and m.cls == tp.SUCCESS, "expiry in an hour: allocated (%r)" % m)

        # PASSWORD-ALGORITHMS byte for byte
        d = UdpClient(srv.ports["u"], src="127.0.0.2")
        d.challenge()
        tp.check(d.algs == b"\0\x01\0\0\0\x02\0\0", "the server offers MD5 and SHA-256")
        md5 = (A_PW_ALG, b"\0\x01\0\0")
        for label, algs in (("a parameter added", b"\0\x01\0\x04abcd\0\x02\0\0"),
                            ("reordered", b"\0\x02\0\0\0\x01\0\0"),
                            ("one missing", b"\0\x01\0\0")):
            m = d.allocate(extra=[(A_PW_ALGS, algs), md5])
            tp.check(m is not None and m.code() == 400,
                     "PASSWORD-ALGORITHMS %s: 400 (%r)" % (label, m))
        m = d.allocate(extra=[(A_PW_ALGS, d.algs), md5])
        tp.check(m is not None and m.cls == tp.SUCCESS, "the exact value: allocated (%r)" % m)


def test(binary):
    test_guessing(binary)
    test_userhash_cost(binary)
    test_names_and_algs(binary)


if __name__ == "__main__":
    tp.main(test)
