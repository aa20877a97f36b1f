#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A real HAProxy (Debian's haproxy, TCP mode) in front of proxy-protocol
listeners, with coturn's turnutils_uclient as the client.

    test_haproxy.py TURNPIKE TURNPIKECTL

HAProxy listens on 127.0.0.1 and connects to turnpike from 127.0.0.1, the only
proxy-trusted source; the clients bind 127.0.0.2 and 127.0.0.3, so an address
tells who is who. For a tcp: and a tls: listener, each behind send-proxy-v2
and behind send-proxy (v1): a Binding's XOR-MAPPED-ADDRESS is the client's
own address and port, uclient relays every message through HAProxy to a
turnutils_peer, and while it runs `turnpikectl sessions --json` shows the
client's address (not HAProxy's), as do the server's log lines. Then what
must be refused, each through HAProxy: no header (a backend without
send-proxy) on a proxy-protocol listener, a header (send-proxy-v2) on a
listener without proxy-protocol (from 127.0.0.5: refusals are logged once
per source and minute), and a header from a source outside proxy-trusted (a
backend with "source 127.0.0.4").
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import tpstream as tp

NMSG = 60  # at uclient's 20 ms interval: about 1.2 s of relaying per run


def haproxy_cfg(path, fronts):
    with open(path, "w") as f:
        f.write("global\n  maxconn 200\n"
                "defaults\n  mode tcp\n  timeout connect 3s\n  timeout client 30s\n"
                "  timeout server 30s\n")
        for name, (fport, bport, opts) in fronts.items():
            f.write("frontend f_%s\n  bind 127.0.0.1:%d\n  default_backend b_%s\n" %
                    (name, fport, name))
            f.write("backend b_%s\n  server s 127.0.0.1:%d %s\n" % (name, bport, opts))


def start_haproxy(cfg, logpath, ports):
    logf = open(logpath, "w")
    p = subprocess.Popen(["haproxy", "-db", "-f", cfg], stdout=logf, stderr=subprocess.STDOUT)
    end = time.time() + 10
    while time.time() < end:
        if p.poll() is not None:
            with open(logpath) as f:
                tp.log(f.read())
            raise tp.Fail("haproxy exited at start (%d)" % p.returncode)
        try:
            for port in ports:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return p, logf
        except OSError:
            time.sleep(0.1)
    raise tp.Fail("haproxy did not listen within 10 s")


def sessions(ctl, sock):
    r = subprocess.run([ctl, "-s", sock, "--json", "sessions"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=10)
    if r.returncode != 0:
        return []
    return json.loads(r.stdout.decode()).get("sessions", [])


def relay_through(srv, ctl, sock, label, fport, src, tls, peer_port, tries=2):
    """uclient from src through HAProxy; returns the sessions seen meanwhile."""
    cmd = (["timeout", "-k", "2", "40", "turnutils_uclient", "-t"] + (["-S"] if tls else []) +
           ["-s", "-L", src, "-u", tp.USER, "-w", tp.PASS, "-p", str(fport), "-n", str(NMSG),
            "-m", "1", "-l", "180", "-z", "20", "-e", "127.0.0.1", "-r", str(peer_port),
            "127.0.0.1"])
    tp.log("run:", " ".join(cmd))
    out_path = os.path.join(srv.dir, "uclient-%s.log" % re.sub(r"\W+", "_", label))
    with open(out_path, "w") as outf:
        p = subprocess.Popen(cmd, stdout=outf, stderr=subprocess.STDOUT)
        seen = {}
        end = time.time() + 45
        while p.poll() is None and time.time() < end:
            for s in sessions(ctl, sock):
                seen[s["id"]] = s
            time.sleep(0.1)
        p.wait()
    with open(out_path, errors="replace") as f:
        out = f.read()
    errors = [l for l in out.splitlines() if "ERROR" in l]
    m = re.findall(r"tot_send_msgs=(\d+), tot_recv_msgs=(\d+)", out)
    ok = p.returncode == 0 and not errors and m and m[-1][0] == m[-1][1] and int(m[-1][0]) > 0
    if not ok and tls and m and not errors and tries > 1:
        # uclient over TLS counts one SSL_read as one message (see test_uclient.py)
        tp.log("%s: uclient lost count over TLS (%s), retrying once" % (label, m[-1:]))
        return relay_through(srv, ctl, sock, label + " (retry)", fport, src, tls, peer_port, 1)
    if not ok:
        tp.log(out[-4000:])
    tp.check(p.returncode == 0, "%s: uclient exit status 0 (124 = timed out)" % label)
    tp.check(not errors, "%s: no ERROR lines (%s)" % (label, errors[:3]))
    tp.check(bool(m) and int(m[-1][0]) > 0 and m[-1][0] == m[-1][1],
             "%s: every message relayed through HAProxy (%s)" % (label, m[-1:]))
    return list(seen.values())


def mapped_through(label, fport, src, tls):
    """A Binding through HAProxy: XOR-MAPPED-ADDRESS must be the client's own
    address and port, as its socket has them."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", fport))
    own = s.getsockname()
    if tls:
        s = tp.tls_client_ctx().wrap_socket(s)
    got = tp.unxor_addr(tp.Client(s).binding().get(tp.A_XOR_MAPPED))
    s.close()
    tp.check(got == own, "%s: XOR-MAPPED-ADDRESS is the client's %s:%d (%s:%d)" %
             (label, own[0], own[1], got[0], got[1]))


def refused_through(srv, label, fport, why):
    mark = len(srv.read_log())
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.3", 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", fport))
    s.sendall(tp.encode(tp.BINDING, tp.REQUEST, []))
    t = tp.closed_by_peer(s, 5)
    s.close()
    tp.check(t is not None, "%s: closed (after %.2f s)" % (label, t or -1))
    for _ in range(20):
        if why in srv.read_log()[mark:]:
            break
        time.sleep(0.05)
    tp.check(why in srv.read_log()[mark:], "%s: the server says %r" % (label, why))


def test(binary, ctl):
    for t in ("haproxy", "turnutils_uclient", "turnutils_peer"):
        if not shutil.which(t):
            tp.log("SKIP: %s not installed" % t)
            raise SystemExit(tp.SKIP)
    tmp = tempfile.mkdtemp(prefix="tp-haproxy-")
    sock = os.path.join(tmp, "admin.sock")
    opts = {"proxy-trusted": '[ "127.0.0.1/32" ]', "admin": '"unix:%s"' % sock,
            "log-level": '"debug"'}
    peer_port = tp.free_port()
    peer = subprocess.Popen(["turnutils_peer", "-L", "127.0.0.1", "-p", str(peer_port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    hap = None
    try:
        with tp.Server(binary, {"pt": "tcp proxy-protocol", "ps": "tls proxy-protocol",
                                "plain": "tcp"}, opts, tls=True) as srv:
            P = srv.ports
            fronts = {
                "tcp_v2": (tp.free_port(), P["pt"], "send-proxy-v2"),
                "tcp_v1": (tp.free_port(), P["pt"], "send-proxy"),
                "tls_v2": (tp.free_port(), P["ps"], "send-proxy-v2"),
                "tls_v1": (tp.free_port(), P["ps"], "send-proxy"),
                "no_header": (tp.free_port(), P["pt"], ""),
                # refusals are logged once per source and minute: not from
                # 127.0.0.1 again, whose "no header" refusal is logged
                "header_on_plain": (tp.free_port(), P["plain"], "send-proxy-v2 source 127.0.0.5"),
                "untrusted": (tp.free_port(), P["pt"], "send-proxy-v2 source 127.0.0.4"),
            }
            cfg = os.path.join(tmp, "haproxy.cfg")
            haproxy_cfg(cfg, fronts)
            # HAProxy binds every frontend before it serves: probing the
            # refusing ones would spend their sources' one log line a minute
            hap, hlog = start_haproxy(cfg, os.path.join(tmp, "haproxy.log"),
                                      [fronts[k][0] for k in ("tcp_v2", "tcp_v1", "tls_v2",
                                                              "tls_v1")])
            tp.log("haproxy pid %d" % hap.pid)

            runs = [("tcp_v2", "127.0.0.2", False), ("tcp_v1", "127.0.0.3", False),
                    ("tls_v2", "127.0.0.3", True), ("tls_v1", "127.0.0.2", True)]
            for name, src, tls in runs:
                label = "%s from %s" % (name, src)
                mapped_through(label, fronts[name][0], src, tls)
                seen = relay_through(srv, ctl, sock, label, fronts[name][0], src, tls, peer_port)
                want = "tls" if tls else "tcp"
                mine = [s for s in seen if s["transport"] == want]
                clients = sorted({s["client"].rsplit(":", 1)[0] for s in mine})
                tp.check(clients == [src], "%s: sessions --json shows the client %s, not "
                         "HAProxy's 127.0.0.1 (%s)" % (label, src, clients))
                tp.check(all(s["server"].rsplit(":", 1)[1] == str(fronts[name][1])
                             for s in mine), "%s: ... on the %s listener" % (label, want))
            log = srv.read_log()
            for ver, src in (("v2", "127.0.0.2"), ("v1", "127.0.0.3")):
                tp.check(re.search(r"proxy-protocol: %s header from 127\.0\.0\.1:\d+ \[tcp %s:"
                                   % (ver, re.escape(src)), log) is not None,
                         "the log names %s behind HAProxy's %s header" % (src, ver))
            tp.check(re.search(r"allocation created.*\[tls 127\.0\.0\.2:", log) is not None,
                     "an allocation's log line names 127.0.0.2 over tls")
            tp.check(not re.search(r"allocation created.*\[t(cp|ls) 127\.0\.0\.1:", log),
                     "no allocation is logged under HAProxy's address")

            refused_through(srv, "HAProxy without send-proxy on a proxy-protocol listener",
                            fronts["no_header"][0], "no PROXY header from a trusted source")
            refused_through(srv, "HAProxy send-proxy-v2 on a listener without proxy-protocol",
                            fronts["header_on_plain"][0],
                            "PROXY header on a listener without proxy-protocol")
            refused_through(srv, "HAProxy send-proxy-v2 from 127.0.0.4 (not trusted)",
                            fronts["untrusted"][0], "source not in proxy-trusted")
            tp.check(hap.poll() is None and srv.alive(), "haproxy and the server still running")
    finally:
        if hap is not None:
            hap.send_signal(signal.SIGTERM)
            try:
                hap.wait(5)
            except subprocess.TimeoutExpired:
                hap.kill()
                hap.wait()
            hlog.close()
        peer.terminate()
        peer.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    tp.main(test)
