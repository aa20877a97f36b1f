#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""turnpike-probe against turnpike on loopback (ctest: tools/probe/loopback).

usage: test_loopback.py TURNPIKE TURNPIKE_PROBE

Starts the server with temporary configurations on free 127.0.0.1 ports and
checks the probe's JSON (docs/PROBE.md) with the json module:
  1. loopback peers allowed, RFC 5780 on, TCP/TLS/DTLS listeners: srflx =
     127.0.0.1, no NAT, TURN works on every transport, relay RTT numbers;
  2. --audit with loopback and private peers allowed: flagged insecure, and
     the overall verdict and exit code (3) say so, in JSON and in the text;
  3. --audit with the default peer policy: secure, and the relay test reports
     the 403 as the secure default (exit code still 0);
  4. a wrong password: exit 1 with the 401 hint; 5. no server: exit 1, quickly;
  6. two turnpike nodes: node 1 over total-quota, then node 1 draining (SIGUSR1),
     answers Allocate with 300 Try Alternate to node 2: the probe follows it,
     allocates on node 2 (its relay port range) and says so (redirected_to);
     two nodes that send each other back: reported as a redirect loop, exit 1.
"""
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import signal
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "stream"))
import tpstream  # noqa: E402  (a UDP TURN client to hold allocations)

TURNPIKE, PROBE = sys.argv[1], sys.argv[2]
TMP = tempfile.mkdtemp(prefix="tp-probe-")
FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def free_port(kind=socket.SOCK_DGRAM, also_next=True):
    """A port free for UDP and TCP (and port+1 too, for RFC 5780's other port)."""
    for _ in range(200):
        s = socket.socket(socket.AF_INET, kind)
        s.bind(("127.0.0.1", 0))
        p = s.getsockname()[1]
        s.close()
        if p > 65000:
            continue
        ok = True
        for q in ([p, p + 1] if also_next else [p]):
            for k in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                t = socket.socket(socket.AF_INET, k)
                try:
                    t.bind(("127.0.0.1", q))
                except OSError:
                    ok = False
                t.close()
        if ok:
            return p
    raise SystemExit("no free port")


def make_cert():
    cert = os.path.join(TMP, "cert.pem")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                        "-subj", "/CN=localhost", "-keyout", cert, "-out", cert + ".crt"],
                       capture_output=True)
    if r.returncode != 0:
        return None
    with open(cert, "a") as f, open(cert + ".crt") as c:
        f.write(c.read())
    return cert


def stun_ready(port, deadline=5.0):
    req = struct.pack("!HHI12s", 1, 0, 0x2112A442, os.urandom(12))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.2)
    end = time.time() + deadline
    try:
        while time.time() < end:
            try:
                s.sendto(req, ("127.0.0.1", port))
                s.recvfrom(2048)
                return True
            except OSError:
                time.sleep(0.1)
    finally:
        s.close()
    return False


class Server:
    def __init__(self, name, lines):
        self.conf = os.path.join(TMP, name + ".conf")
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\nlog-level = \"warn\";\n")
        self.log = open(os.path.join(TMP, name + ".log"), "w")
        self.p = subprocess.Popen([TURNPIKE, "-c", self.conf], stdout=self.log,
                                  stderr=subprocess.STDOUT)

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(5)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
        self.log.close()
        with open(self.log.name) as f:
            text = f.read()
        if text.strip():
            print("--- server log (%s) ---\n%s" % (os.path.basename(self.log.name), text[-2000:]))


def probe(args, timeout=60):
    t0 = time.time()
    r = subprocess.run([PROBE, "--json", "--skip-lifetime"] + args, capture_output=True,
                       text=True, timeout=timeout)
    took = time.time() - t0
    try:
        doc = json.loads(r.stdout)
    except ValueError:
        print("stdout:", r.stdout[-3000:], "stderr:", r.stderr[-2000:])
        doc = None
    return r.returncode, doc, took


def turn_entry(doc, transport, port):
    for t in doc["turn"]:
        if t["transport"] == transport and t["port"] == port:
            return t
    return None


USER = ['users = ( { name = "alice"; password = "s3cret"; } );', "demo-user = false;"]


def scenario_full(cert):
    p, p2 = free_port(), free_port()
    listen = ['"udp:127.0.0.1:%d"' % p]
    if cert:
        listen += ['"tcp:127.0.0.1:%d"' % p, '"tls:127.0.0.1:%d"' % p2, '"dtls:127.0.0.1:%d"' % p2]
    lines = USER + ["listen = [ %s ];" % ", ".join(listen),
                    'allowed-peer = [ "127.0.0.0/8" ];',
                    "nat-discovery = true;", 'other-ip = [ "127.0.0.2" ];']
    if cert:
        lines.append('tls-cert = "%s";' % cert)
    srv = Server("full", lines)
    try:
        check(stun_ready(p), "server 1 answers Binding on 127.0.0.1:%d" % p)
        rc, doc, took = probe(["--user", "alice", "--pass", "s3cret", "--ports", "%d,%d" % (p, p2),
                               "127.0.0.1:%d" % p])
        check(doc is not None, "probe printed one JSON document")
        if doc is None:
            return
        print(json.dumps(doc, indent=1)[:6000])
        check(doc["schema"] == "turnpike-probe/1", "schema turnpike-probe/1")
        check(rc == 0 and doc["exit_code"] == 0 and doc["ok"] is True, "exit code 0")
        check(doc["verdict"] == "ok", "verdict ok")
        check(took < 25, "finished within the default budget (%.1f s)" % took)
        b = [x for x in doc["stun"]["bindings"] if x["ok"]]
        check(doc["stun"]["ok"] and len(b) >= 1, "a Binding answer")
        check(all(x["mapped"].startswith("127.0.0.1:") for x in b), "srflx address is 127.0.0.1")
        check(all(x["behind_nat"] is False for x in b), "no NAT on loopback")
        nat = doc["nat"]
        check(nat["rfc5780"] is True, "RFC 5780 detected (OTHER-ADDRESS)")
        check(nat["other_address"] == "127.0.0.2:%d" % (p + 1), "OTHER-ADDRESS 127.0.0.2:%d" % (p + 1))
        check(nat["mapping"]["behavior"] == "none", "mapping: none")
        check(nat["filtering"]["behavior"] == "endpoint-independent", "filtering: open (no NAT)")
        check(nat["lifetime"]["status"] == "skipped", "lifetime skipped")
        u = turn_entry(doc, "udp", p)
        check(u is not None and u["ok"] and u["relayed"].startswith("127.0.0.1:"), "TURN UDP works")
        if cert:
            for tr, port in (("tcp", p), ("tls", p2), ("dtls", p2)):
                e = turn_entry(doc, tr, port)
                check(e is not None and e["ok"], "TURN over %s on %d works" % (tr, port))
                if tr in ("tls", "dtls") and e:
                    check(e["tls"] and "NOT verified" in e["tls"], "%s: self-signed certificate reported" % tr)
        r = doc["relay"]
        check(r["status"] == "ok", "relay status ok")
        rtt = r.get("rtt_ms") or {}
        check(rtt.get("received", 0) > 0 and 0 < rtt["min"] <= min(rtt["avg"], rtt["p95"]) + 1e-9,
              "RTT min/avg/p95 present and ordered")
        tp = r.get("throughput") or {}
        check(tp.get("packets_received", 0) > 0 and tp.get("mbit_per_s", 0) > 0, "throughput measured")
        check(doc["audit"]["verdict"] == "not-requested", "no audit without --audit")
    finally:
        srv.stop()


def scenario_audit(name, peers, want, relay_status):
    p = free_port()
    lines = USER + ['listen = [ "udp:127.0.0.1:%d" ];' % p]
    if peers:
        lines.append("allowed-peer = [ %s ];" % ", ".join('"%s"' % x for x in peers))
    srv = Server(name, lines)
    try:
        check(stun_ready(p), "server (%s) answers Binding" % name)
        rc, doc, took = probe(["--audit", "--user", "alice", "--pass", "s3cret", "--ports", str(p),
                               "127.0.0.1:%d" % p])
        if doc is None:
            check(False, "probe JSON (%s)" % name)
            return
        a = doc["audit"]
        for c in a["checks"]:
            print("   %-24s %-8s %s" % (c["peer"], c["accepted"], c["note"]))
        if want == "insecure":
            check(rc == 3 and doc["exit_code"] == 3 and doc["ok"] is False,
                  "%s: exit code 3 (works, but insecure; got %d)" % (name, rc))
            check(doc["verdict"] == "insecure" and "INSECURE" in doc["verdict_text"]
                  and "127.0.0.1" in doc["verdict_text"], "%s: overall verdict insecure" % name)
            text = subprocess.run([PROBE, "--skip-lifetime", "--audit", "--user", "alice", "--pass",
                                   "s3cret", "--ports", str(p), "127.0.0.1:%d" % p],
                                  capture_output=True, text=True, timeout=60)
            last = [l for l in text.stdout.splitlines() if l.startswith("Verdict:")]
            check(text.returncode == 3 and last and "INSECURE" in last[0],
                  "%s: the text report's verdict says INSECURE (%s)" % (name, last))
        else:
            check(rc == 0 and doc["verdict"] == "ok" and "found it secure" in doc["verdict_text"],
                  "%s: exit code 0, verdict ok (STUN and TURN UDP work, audit secure)" % name)
        check(a["ran"] and a["verdict"] == want, "%s: audit verdict %s (got %s)" % (name, want, a["verdict"]))
        acc = {c["peer"]: c["accepted"] for c in a["checks"]}
        if want == "insecure":
            check(acc["127.0.0.1"] is True and acc["10.0.0.1"] is True, "loopback and private accepted")
            check(acc["169.254.169.254"] is False, "metadata still refused")
        else:
            check(all(v is not True for v in acc.values()), "nothing accepted")
            check(acc["127.0.0.1"] is False and acc["::ffff:127.0.0.1"] in (False, None), "loopback forms refused")
        check(doc["relay"]["status"] == relay_status, "%s: relay status %s (got %s: %s)" % (
            name, relay_status, doc["relay"]["status"], doc["relay"]["note"]))
        if relay_status == "refused":
            check("secure default" in doc["relay"]["note"], "403 reported as the secure default")
    finally:
        srv.stop()


def scenario_wrong_password():
    p = free_port()
    srv = Server("wrongpw", USER + ['listen = [ "udp:127.0.0.1:%d" ];' % p])
    try:
        check(stun_ready(p), "server (wrong password) answers Binding")
        rc, doc, _ = probe(["--user", "alice", "--pass", "nope", "--ports", str(p), "127.0.0.1:%d" % p])
        u = turn_entry(doc, "udp", p) if doc else None
        check(rc == 1, "wrong password: exit 1")
        check(doc["stun"]["ok"] is True, "STUN still works")
        check(u and u["error_code"] == 401 and "wrong user, password" in (u["hint"] or ""),
              "401 with the credentials hint")
    finally:
        srv.stop()


def scenario_rest():
    p = free_port()
    srv = Server("rest", ['listen = [ "udp:127.0.0.1:%d" ];' % p, 'static-auth-secret = [ "k3y" ];',
                          'allowed-peer = [ "127.0.0.0/8" ];'])
    try:
        check(stun_ready(p), "server (REST) answers Binding")
        rc, doc, _ = probe(["--secret", "k3y", "--ports", str(p), "127.0.0.1:%d" % p])
        check(rc == 0 and turn_entry(doc, "udp", p)["ok"], "REST credentials (--secret): TURN UDP works")
        rc, doc, _ = probe(["--secret", "wrong", "--ports", str(p), "127.0.0.1:%d" % p])
        u = turn_entry(doc, "udp", p)
        check(rc == 1 and u["error_code"] == 401 and "shared secret" in (u["hint"] or ""),
              "REST with a wrong secret: 401 and the REST hint")
    finally:
        srv.stop()


def scenario_ipv6():
    try:
        t = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        t.bind(("::1", 0))
        p = t.getsockname()[1]
        t.close()
    except OSError:
        print("note: no ::1 here; IPv6 not tested")
        return
    srv = Server("ipv6", USER + ['listen = [ "udp:[::1]:%d" ];' % p, 'allowed-peer = [ "::1/128" ];'])
    try:
        time.sleep(0.3)
        rc, doc, _ = probe(["--user", "alice", "--pass", "s3cret", "--ports", str(p), "[::1]:%d" % p])
        b = [x for x in doc["stun"]["bindings"] if x["ok"]]
        check(rc == 0 and b and all(x["family"] == "ipv6" and x["mapped"].startswith("[::1]:") for x in b),
              "IPv6: srflx [::1]")
        check(doc["relay"]["status"] == "ok" and doc["relay"]["relayed"].startswith("[::1]:"),
              "IPv6: relay through an IPv6 relayed address")
    finally:
        srv.stop()


def scenario_no_server():
    p = free_port()
    rc, doc, took = probe(["--timeout", "6", "--ports", str(p), "127.0.0.1:%d" % p])
    check(rc == 1 and doc and doc["stun"]["ok"] is False, "no server: exit 1, STUN not ok")
    check(took < 12, "no server: bounded (%.1f s)" % took)
    check(doc and all(not t["ok"] and not t["reachable"] and "not reachable" in (t["hint"] or "")
                      for t in doc["turn"] if t["transport"] != "dtls"),
          "no server: every transport reported not reachable, with a hint")


def hold_allocation(port):
    """One allocation on the node at port, from a client of its own."""
    c = tpstream.UdpClient(port, user="alice", pw="s3cret")
    m = c.allocate()
    return c if m.cls == tpstream.SUCCESS else None


def scenario_alternate(why):
    """why: "total-quota" (node 1 full) or "drain" (node 1 draining)."""
    p1, p2 = free_port(), free_port()
    peers = 'allowed-peer = [ "127.0.0.0/8" ];'
    node2 = Server("alt2-" + why, USER + ['listen = [ "udp:127.0.0.1:%d" ];' % p2, peers,
                                          "min-port = 41000;", "max-port = 41099;"])
    node1 = Server("alt1-" + why, USER + [
        'listen = [ "udp:127.0.0.1:%d" ];' % p1, peers, "min-port = 42000;",
        "max-port = 42099;", 'alternate-server = [ "127.0.0.1:%d" ];' % p2,
        "total-quota = %d;" % (1 if why == "total-quota" else 0)])
    holder = None
    try:
        check(stun_ready(p1) and stun_ready(p2), "%s: both nodes answer Binding" % why)
        holder = hold_allocation(p1)
        check(holder is not None, "%s: node 1 holds one allocation" % why)
        if why == "drain":
            node1.p.send_signal(signal.SIGUSR1)
            time.sleep(0.3)
            check(node1.p.poll() is None, "drain: node 1 keeps running for its allocation")
        rc, doc, _ = probe(["--user", "alice", "--pass", "s3cret", "--ports", str(p1),
                            "127.0.0.1:%d" % p1])
        u = turn_entry(doc, "udp", p1) if doc else None
        check(u is not None and u["ok"], "%s: TURN over UDP works through the redirect" % why)
        if not u:
            return
        port = int(u["relayed"].rsplit(":", 1)[1]) if u["relayed"] else 0
        check(41000 <= port <= 41099, "%s: the allocation is node 2's (relay port %d)" %
              (why, port))
        check(u["redirected_to"] == ["127.0.0.1:%d" % p2],
              "%s: redirected_to names node 2 (%r)" % (why, u["redirected_to"]))
        check(rc == 0 and doc["verdict"] == "ok", "%s: exit 0, verdict ok" % why)
        r = doc["relay"]
        check(r["status"] == "ok" and r["redirected_to"] == ["127.0.0.1:%d" % p2] and
              r["relayed"].startswith("127.0.0.1:410"),
              "%s: the relay test follows it too and relays through node 2" % why)
        out = subprocess.run([PROBE, "--skip-lifetime", "--user", "alice", "--pass", "s3cret",
                              "--ports", str(p1), "127.0.0.1:%d" % p1], capture_output=True,
                             text=True, timeout=60).stdout
        check("after 300 Try Alternate to 127.0.0.1:%d" % p2 in out,
              "%s: the text report says where it was sent" % why)
        if why == "drain":
            holder.req(tpstream.REFRESH, [(tpstream.A_LIFETIME, b"\0\0\0\0")])
            try:
                rc1 = node1.p.wait(10)
            except subprocess.TimeoutExpired:
                rc1 = None
            check(rc1 == 0, "drain: node 1 exits 0 once its allocation is gone (%r)" % rc1)
    finally:
        node1.stop()
        node2.stop()


def scenario_alternate_loop():
    p1, p2 = free_port(), free_port()
    nodes = []
    for me, other, lo in ((p1, p2, 42100), (p2, p1, 41100)):
        nodes.append(Server("loop-%d" % me, USER + [
            'listen = [ "udp:127.0.0.1:%d" ];' % me, 'allowed-peer = [ "127.0.0.0/8" ];',
            "min-port = %d;" % lo, "max-port = %d;" % (lo + 99),
            'alternate-server = [ "127.0.0.1:%d" ];' % other, "total-quota = 1;"]))
    holders = []
    try:
        check(stun_ready(p1) and stun_ready(p2), "loop: both nodes answer Binding")
        holders = [hold_allocation(p1), hold_allocation(p2)]
        check(all(holders), "loop: each node full (total-quota 1, one allocation)")
        rc, doc, took = probe(["--user", "alice", "--pass", "s3cret", "--ports", str(p1),
                               "127.0.0.1:%d" % p1])
        u = turn_entry(doc, "udp", p1) if doc else None
        check(rc == 1 and u is not None and not u["ok"], "loop: TURN fails, exit 1")
        check(u is not None and "redirect loop" in (u["error"] or ""),
              "loop: reported as a redirect loop (%r)" % (u and u["error"]))
        check(u is not None and u["redirected_to"] == ["127.0.0.1:%d" % p2],
              "loop: it went to node 2 once, not back")
        check(took < 25, "loop: bounded (%.1f s)" % took)
    finally:
        for n in nodes:
            n.stop()


def main():
    cert = make_cert()
    if not cert:
        print("note: openssl could not make a certificate; TLS/DTLS not tested")
    scenario_full(cert)
    scenario_audit("audit-insecure", ["127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12",
                                      "192.168.0.0/16"], "insecure", "ok")
    scenario_audit("audit-default", None, "secure", "refused")
    scenario_wrong_password()
    scenario_rest()
    scenario_ipv6()
    scenario_no_server()
    scenario_alternate("total-quota")
    scenario_alternate("drain")
    scenario_alternate_loop()
    if FAILS:
        print("\n%d check(s) failed:" % len(FAILS))
        for f in FAILS:
            print("  " + f)
        return 1
    print("\nall checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
