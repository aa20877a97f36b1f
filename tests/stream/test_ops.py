#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Operations, over real sockets: turnpikectl on the admin socket (status,
stats, sessions with filters, kill by user and by id with the stream client's
connection closed, log-level, reload, credential, users add/remove/list with a
users-file), the Prometheus endpoint (/, /live, /ready, /metrics with live
counters that move by exactly what a client sent, coturn's names), drain
(sessions made before keep relaying, a new Allocate gets 300 with
ALTERNATE-SERVER before authentication, no challenge, signed only when the
request was; without alternate-server 401, then 508; /ready 503, the process exits 0 by itself when the
last allocation ends; a drain deadline ends it too), SIGUSR1 drains, an
ignored signal is logged, JSON logs are JSON, and the kernel's drops in a full
UDP receive buffer are counted.

    test_ops.py TURNPIKE TURNPIKECTL
"""
import base64
import hashlib
import hmac
import json
import os
import re
import signal
import socket
import struct
import subprocess
import time
import urllib.error
import urllib.request

import tpstream as tp

A_ALTERNATE = 0x8023


class Ctl:
    def __init__(self, binary, sock):
        self.binary, self.sock = binary, sock

    def run(self, *args, check=0):
        r = subprocess.run([self.binary, "-s", self.sock] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        if check is not None and r.returncode != check:
            tp.log("turnpikectl %s: exit %d\n%s%s" % (" ".join(args), r.returncode,
                                                      r.stdout.decode(), r.stderr.decode()))
        return r

    def json(self, *args):
        r = self.run("--json", *args)
        tp.check(r.returncode == 0, "turnpikectl %s: exit 0" % " ".join(args))
        return json.loads(r.stdout.decode())


Udp = tp.UdpClient


def set_admin(srv, sock, extra=""):
    """Point the server's (not yet started) admin socket at sock."""
    with open(srv.conf_path) as f:
        conf = f.read()
    with open(srv.conf_path, "w") as f:
        f.write(conf.replace('admin = "";', 'admin = "unix:%s";\n%s' % (sock, extra)))


def http(port, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def metric(text, name, labels=None):
    want = None if labels is None else "{%s}" % labels
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r"^([a-z_]+)(\{[^}]*\})? (\S+)$", line)
        if m and m.group(1) == name and (want is None or m.group(2) == want):
            return float(m.group(3))
    return None


def wait_metric(port, name, labels, want, secs=4):
    v = None
    for _ in range(int(secs * 10)):
        v = metric(http(port, "/metrics")[1], name, labels)
        if v == want:
            return v
        time.sleep(0.1)
    return v


def test_admin_and_metrics(binary, ctl_bin):
    mport = tp.free_port()
    srv = tp.Server(binary, {"u": "udp", "t": "tcp"},
                    {"metrics": '"http:127.0.0.1:%d"' % mport, "allowed-peer": '[ "127.0.0.0/8" ]'})
    sock = os.path.join(srv.dir, "admin.sock")
    set_admin(srv, sock)
    with srv:
        ctl = Ctl(ctl_bin, sock)
        st = ctl.json("status")
        tp.check(st["workers"] >= 1 and st["draining"] is False and st["allocations"] == 0,
                 "status: workers, serving, no allocations (%r)" % st)
        tp.check(ctl.run("status").stdout.decode().startswith("version"), "status as a table")
        tp.check(http(mport, "/")[0] == 200 and http(mport, "/live")[0] == 200, "/ and /live 200")
        tp.check(http(mport, "/ready")[0] == 200, "/ready 200 while serving")
        tp.check(http(mport, "/nope")[0] == 404, "/nope 404")

        # a UDP allocation that relays a known amount, and a TCP one of bob's
        peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        peer.bind(("127.0.0.2", 0))
        peer.settimeout(2)
        u = Udp(srv.ports["u"])
        m = u.allocate()
        tp.check(m.cls == tp.SUCCESS, "UDP Allocate")
        relay = tp.unxor_addr(m.get(tp.A_XOR_RELAYED))
        tp.check(u.permit(*peer.getsockname()).cls == tp.SUCCESS, "CreatePermission")
        for i in range(25):
            u.send(*peer.getsockname(), b"x" * 100)
        got = 0
        while got < 25:
            peer.recv(2048)
            got += 1
        tcp = tp.Client(tp.connect(srv.ports["t"]), user="bob", pw="bobpw")
        tcp.allocate()
        tp.check(wait_metric(mport, "turnpike_relayed_packets_total",
                             'direction="to_peer",transport="udp"', 25) == 25,
                 "/metrics: 25 relayed packets to the peer, live")
        text = http(mport, "/metrics")[1]
        tp.check(metric(text, "turnpike_relayed_bytes_total",
                        'direction="to_peer",transport="udp"') == 2500, "... and 2,500 bytes")
        tp.check(metric(text, "turnpike_allocations", 'transport="udp",family="ipv4"') == 1 and
                 metric(text, "turnpike_allocations", 'transport="tcp",family="ipv4"') == 1,
                 "/metrics: one UDP and one TCP allocation")
        tp.check(metric(text, "turn_total_allocations", 'type="UDP"') == 1 and
                 metric(text, "turn_total_allocations", 'type="TCP"') == 1,
                 "coturn's turn_total_allocations by type")
        tp.check(metric(text, "turnpike_requests_total", 'method="allocate",result="success"') == 2,
                 "requests by method and result")
        tp.check(metric(text, "turnpike_challenges_total", 'code="401"') >= 2, "401 challenges")
        tp.check(metric(text, "turn_traffic_peer_sentp", 'realm="%s"' % tp.REALM) == 0,
                 "coturn's turn_traffic_*: nothing until a session ends")

        ses = ctl.json("sessions")
        tp.check(ses["count"] == 2, "sessions: two (%r)" % ses)
        mine = [x for x in ses["sessions"] if x["user"] == tp.USER][0]
        tp.check(mine["transport"] == "udp" and mine["relay"] == ["%s:%d" % relay] and
                 mine["to_peer"]["packets"] == 25 and mine["permissions"] == 1,
                 "alice's session: udp, its relay, 25 packets, 1 permission (%r)" % mine)
        tp.check(ctl.json("sessions", "--user", "bob")["count"] == 1, "sessions --user bob")
        tp.check("alice" in ctl.run("sessions").stdout.decode(), "sessions as a table")
        st = ctl.json("stats")
        tp.check(st["relayed"]["to_peer"]["packets"] == 25, "stats: relayed packets")

        # kill by user: bob's TCP connection is closed with it
        k = ctl.json("kill", "--user", "bob")
        tp.check(k["killed"] == 1, "kill --user bob: 1")
        tp.check(tp.closed_by_peer(tcp.sock, 3) is not None, "bob's TCP connection closed")
        # kill by id: alice's UDP allocation goes (a Refresh then gets 437)
        k = ctl.json("kill", "--id", mine["id"])
        tp.check(k["killed"] == 1, "kill --id: 1")
        tp.check(u.req(tp.REFRESH, []).code() == 437, "alice's allocation is gone: 437")
        tp.check(ctl.run("kill", "--id", "zz", check=1).returncode == 1, "a bad id: exit 1")
        tp.check(wait_metric(mport, "turn_traffic_peer_sentp", 'realm="%s"' % tp.REALM, 25) == 25,
                 "coturn's turn_traffic_peer_sentp counts the ended session's 25 packets")
        log = srv.read_log()
        tp.check(re.search(r"allocation ended: killed by an operator after \d+ s; "
                           r"client->peer 25 pkts 2500 B", log) is not None,
                 "the end line: reason, duration, packets and bytes each way")

        # log level and reload through the socket
        tp.check(ctl.run("log-level", "warn").returncode == 0, "log-level warn")
        tp.check("log level set to warn" in srv.read_log(), "... logged")
        tp.check(ctl.run("log-level", "loud", check=1).returncode == 1, "a bad level: exit 1")
        ctl.run("reload")
        tp.check(metric(http(mport, "/metrics")[1], "turnpike_config_reloads_total") == 1,
                 "reload counted in /metrics")
        tp.check(Ctl(ctl_bin, sock + ".none").run("status", check=3).returncode == 3,
                 "no server: exit 3")
        peer.close()
        tcp.close()


def test_users_and_credential(binary, ctl_bin):
    srv = tp.Server(binary, {"u": "udp"}, {"static-auth-secret": '[ "ops-secret" ]'})
    sock = os.path.join(srv.dir, "admin.sock")
    ufile = os.path.join(srv.dir, "users.conf")
    with open(ufile, "w") as f:
        f.write("users = ( );\n")
    set_admin(srv, sock, 'users-file = "%s";' % ufile)
    with srv:
        ctl = Ctl(ctl_bin, sock)
        r = ctl.run("users", "add", "carol", "--password", "carolpw", "--file", ufile)
        tp.check(r.returncode == 0, "users add carol (and reload)")
        tp.check(ctl.run("users", "list", "--file", ufile).stdout.decode().split() == ["carol"],
                 "users list: carol")
        tp.check(os.stat(ufile).st_mode & 0o077 == 0, "the users file is private (0600)")
        time.sleep(0.3)
        tp.check(Udp(srv.ports["u"], "carol", "carolpw").allocate().cls == tp.SUCCESS,
                 "carol allocates after the reload")
        tp.check(ctl.run("users", "add", "carol", "--password", "x", "--file", ufile,
                         check=1).returncode == 1, "adding carol twice: exit 1")
        ctl.run("users", "remove", "carol", "--file", ufile)
        time.sleep(0.3)
        tp.check(Udp(srv.ports["u"], "carol", "carolpw").allocate().code() == 401,
                 "carol removed: 401")

        # credential: the REST scheme, accepted by the server
        sfile = os.path.join(srv.dir, "secret")
        open(sfile, "w").write("ops-secret\n")
        c = json.loads(ctl.run("--json", "credential", "--secret-file", sfile, "--user", "dave",
                               "--ttl", "600").stdout.decode())
        exp, name = c["username"].split(":", 1)
        tp.check(name == "dave" and abs(int(exp) - time.time() - 600) < 5, "credential: expiry:user")
        tp.check(c["password"] == base64.b64encode(hmac.new(b"ops-secret", c["username"].encode(),
                                                            hashlib.sha1).digest()).decode(),
                 "credential: base64 HMAC-SHA1")
        tp.check(Udp(srv.ports["u"], c["username"], c["password"]).allocate().cls == tp.SUCCESS,
                 "the server accepts it")


def test_drain(binary, ctl_bin):
    mport = tp.free_port()
    srv = tp.Server(binary, {"u": "udp"},
                    {"metrics": '"http:127.0.0.1:%d"' % mport, "allowed-peer": '[ "127.0.0.0/8" ]',
                     "alternate-server": '[ "192.0.2.7:3478" ]', "log-format": '"json"'})
    sock = os.path.join(srv.dir, "admin.sock")
    set_admin(srv, sock)
    srv.start()
    ctl = Ctl(ctl_bin, sock)
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.2", 0))
    peer.settimeout(2)
    old = Udp(srv.ports["u"])
    tp.check(old.allocate().cls == tp.SUCCESS, "an allocation before the drain")
    old.permit(*peer.getsockname())
    # a client that has a nonce from before the drain (401, then 437)
    signed = Udp(srv.ports["u"], src="127.0.0.5")
    tp.check(signed.permit(*peer.getsockname()).code() == 437 and signed.nonce,
             "a client with a nonce (CreatePermission without an allocation: 437)")
    tp.check(ctl.run("drain", "--deadline", "60").returncode == 0, "drain")
    tp.check(http(mport, "/ready")[0] == 503, "/ready 503 while draining")
    m = Udp(srv.ports["u"], src="127.0.0.3").allocate()
    alt = m.get(A_ALTERNATE)
    tp.check(m.code() == 300 and alt is not None and
             socket.inet_ntoa(alt[4:8]) == "192.0.2.7" and struct.unpack("!H", alt[2:4])[0] == 3478,
             "a new Allocate: 300 with ALTERNATE-SERVER 192.0.2.7:3478 (%r)" % m)
    # decided before authentication: the first, unauthenticated Allocate gets
    # the 300 itself, no challenge (the client authenticates at the alternate)
    m, n = raw_allocate(srv.ports["u"], "127.0.0.6")
    tp.check(m is not None and m.code() == 300 and m.get(A_ALTERNATE) is not None and
             m.get(tp.A_NONCE) is None and m.get(tp.A_REALM) is None and m.get(tp.A_MI) is None,
             "an unauthenticated Allocate: 300 with ALTERNATE-SERVER, no NONCE, REALM or "
             "MESSAGE-INTEGRITY (%r)" % m)
    tp.check(m is not None and len(m.raw) <= n + 8 + 128 + 24,
             "... within the request's size plus ERROR-CODE and ALTERNATE-SERVER (%d <= %d + 160)"
             % (len(m.raw) if m else -1, n))
    # an unknown comprehension-required attribute is never redirected: the
    # request goes the usual way (the 401, then 420 once signed; RFC 8489 §6.3.1)
    m, n = raw_allocate(srv.ports["u"], "127.0.0.6", [(0x7001, b"\0\0\0\0")])
    tp.check(m is not None and m.code() == 401 and m.get(A_ALTERNATE) is None,
             "an Allocate with an unknown comprehension-required attribute: no 300 (%r)" % m)
    m = signed.allocate()
    tp.check(m.code() == 300 and m.get(A_ALTERNATE) is not None and m.get(tp.A_MI) is not None,
             "a signed Allocate gets a signed 300 (%r)" % m)
    old.send(*peer.getsockname(), b"still here")
    tp.check(peer.recv(100) == b"still here", "the old allocation still relays")
    tp.check(old.req(tp.REFRESH, [(tp.A_LIFETIME, struct.pack("!I", 600))]).cls == tp.SUCCESS,
             "... and refreshes")
    st = ctl.json("status")
    tp.check(st["draining"] is True and st["allocations"] == 1, "status: draining, 1 left")
    ctl.run("undrain")
    tp.check(Udp(srv.ports["u"], src="127.0.0.4").allocate().cls == tp.SUCCESS,
             "undrain: new allocations again")
    # drain for real: the process exits 0 when the last allocation ends
    ctl.run("drain")
    for c in (old,):
        c.req(tp.REFRESH, [(tp.A_LIFETIME, b"\0\0\0\0")])
    # the one made after undrain is still there: kill it, then the server goes
    ctl.run("kill", "--user", tp.USER)
    try:
        rc = srv.proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        rc = None
    tp.check(rc == 0, "drained: the process exited by itself with 0 (%r)" % rc)
    lines = open(srv.log_path).read().splitlines()
    bad = [l for l in lines if l.strip() and not l.startswith("{")]
    parsed = [json.loads(l) for l in lines if l.startswith("{")]
    tp.check(not bad and len(parsed) > 5 and all("ts" in x and "msg" in x for x in parsed),
             "log-format json: every line is a JSON object (%d lines)" % len(parsed))
    tp.check(any(x.get("user") == tp.USER and "allocation ended" in x["msg"] for x in parsed),
             "... with the context as keys")
    srv.proc = None
    peer.close()


def raw_allocate(port, src, extra=()):
    """One unauthenticated Allocate: (the answer or None, the request's size)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.settimeout(2)
    tid = os.urandom(12)
    req = tp.encode(tp.ALLOCATE, tp.REQUEST, [(tp.A_REQ_TRANSPORT, b"\x11\0\0\0")] + list(extra),
                    tid)
    try:
        s.sendto(req, ("127.0.0.1", port))
        for _ in range(10):
            m = tp.Msg(s.recv(4096))
            if m.tid == tid:
                return m, len(req)
    except socket.timeout:
        pass
    finally:
        s.close()
    return None, len(req)


def test_drain_no_alternate(binary, ctl_bin):
    """Draining without alternate-server: as before, 401 first, then 508."""
    srv = tp.Server(binary, {"u": "udp"}, {})
    sock = os.path.join(srv.dir, "admin.sock")
    set_admin(srv, sock)
    with srv:
        ctl = Ctl(ctl_bin, sock)
        held = Udp(srv.ports["u"])  # a drain with no allocation ends the process
        tp.check(held.allocate().cls == tp.SUCCESS, "an allocation before the drain")
        tp.check(ctl.run("drain", "--deadline", "60").returncode == 0, "drain (no alternate)")
        m, _ = raw_allocate(srv.ports["u"], "127.0.0.7")
        tp.check(m is not None and m.code() == 401 and m.get(tp.A_NONCE) is not None,
                 "no alternate: an unauthenticated Allocate is challenged, 401 (%r)" % m)
        m = Udp(srv.ports["u"], src="127.0.0.7").allocate()
        tp.check(m.code() == 508 and m.get(tp.A_MI) is not None,
                 "... and the authenticated one answered 508, signed (%r)" % m)


def test_signals_and_deadline(binary, ctl_bin):
    srv = tp.Server(binary, {"u": "udp"}, {"drain-deadline": "2"})
    with srv:
        u = Udp(srv.ports["u"])
        u.allocate()
        srv.proc.send_signal(signal.SIGALRM)
        time.sleep(0.3)
        tp.check(srv.alive() and "ignored" in srv.read_log(), "SIGALRM: logged and ignored")
        srv.proc.send_signal(signal.SIGUSR1)
        try:
            rc = srv.proc.wait(timeout=6)
        except subprocess.TimeoutExpired:
            rc = None
        tp.check(rc == 0, "SIGUSR1 drains; drain-deadline 2 s ends it with 0 (%r)" % rc)
        tp.check("deadline reached with 1 allocations" in srv.read_log(), "the deadline is logged")
        srv.proc = None


def test_kernel_drops(binary, ctl_bin):
    srv = tp.Server(binary, {"u": "udp"}, {"udp-rcvbuf": "4096", "workers": "1"})
    sock = os.path.join(srv.dir, "admin.sock")
    set_admin(srv, sock)
    with srv:
        ctl = Ctl(ctl_bin, sock)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        req = struct.pack("!HHI12s", 1, 0, tp.MAGIC, os.urandom(12))
        srv.proc.send_signal(signal.SIGSTOP)
        for _ in range(500):
            s.sendto(req, ("127.0.0.1", srv.ports["u"]))
        srv.proc.send_signal(signal.SIGCONT)
        time.sleep(0.2)
        s.sendto(req, ("127.0.0.1", srv.ports["u"]))  # carries the drop count
        time.sleep(1.3)                              # a tick publishes it
        drops = ctl.json("stats")["dropped"]["kernel"]
        tp.check(drops > 300, "a full 4 KB receive buffer: the kernel's drops counted (%d)" % drops)


def test_utf8_names(binary, ctl_bin):
    """A UTF-8 user name (RFC 8265 allows it) comes out of sessions --json as
    the same characters, not as escaped bytes."""
    name = "zo\u00eb-\u65e5\u672c"
    users = '( { name = "%s"; password = "pw"; } )' % name
    srv = tp.Server(binary, {"u": "udp"}, {"users": users})
    sock = os.path.join(srv.dir, "admin.sock")
    set_admin(srv, sock)
    with srv:
        u = Udp(srv.ports["u"], user=name, pw="pw")
        tp.check(u.allocate().cls == tp.SUCCESS, "a UTF-8 user allocates")
        ses = Ctl(ctl_bin, sock).json("sessions")
        tp.check(ses["sessions"][0]["user"] == name,
                 "sessions --json gives the name as the same characters (%r)" %
                 ses["sessions"][0]["user"])


def test(binary, ctl_bin):
    test_admin_and_metrics(binary, ctl_bin)
    test_utf8_names(binary, ctl_bin)
    test_users_and_credential(binary, ctl_bin)
    test_drain(binary, ctl_bin)
    test_drain_no_alternate(binary, ctl_bin)
    test_signals_and_deadline(binary, ctl_bin)
    test_kernel_drops(binary, ctl_bin)


if __name__ == "__main__":
    tp.main(test)
