#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""A real Prometheus server (Debian's prometheus) scrapes turnpike every
second while coturn's turnutils_uclient relays through it to turnutils_peer;
Prometheus' HTTP query API then shows:

- the allocation gauge rising while uclient runs and coming down after;
- the relayed-packet and relayed-byte counters, each direction, moving by
  exactly what uclient says it sent and received;
- coturn's names (turn_total_allocations, turn_traffic_*) with the same
  totals once the sessions have ended;
- with metrics-users, alice's own series with her bytes, bounded: a second
  user beyond metrics-users = 1 is only counted in user="other".

Everything on loopback; Prometheus, the peer and turnpike are started and
stopped by this test. Costs about 25 s.

    test_prometheus.py TURNPIKE
"""
import json
import os
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request

import tpstream as tp


class Prometheus:
    def __init__(self, target_port):
        self.dir = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                                "tp-prom-%d" % os.getpid())
        os.makedirs(self.dir, exist_ok=True)
        self.port = tp.free_port()
        conf = os.path.join(self.dir, "prometheus.yml")
        with open(conf, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: turnpike\n"
                    "    static_configs:\n      - targets: ['127.0.0.1:%d']\n" % target_port)
        self.log = open(os.path.join(self.dir, "prometheus.log"), "w")
        self.proc = subprocess.Popen(
            ["prometheus", "--config.file", conf, "--storage.tsdb.path",
             os.path.join(self.dir, "data"), "--web.listen-address", "127.0.0.1:%d" % self.port,
             "--storage.tsdb.retention.time", "1h"],
            stdout=self.log, stderr=subprocess.STDOUT)

    def query(self, q):
        url = "http://127.0.0.1:%d/api/v1/query?%s" % (self.port,
                                                       urllib.parse.urlencode({"query": q}))
        with urllib.request.urlopen(url, timeout=5) as r:
            d = json.loads(r.read().decode())
        if d.get("status") != "success":
            raise tp.Fail("query %s: %r" % (q, d))
        return d["data"]["result"]

    def value(self, q):
        res = self.query(q)
        return float(res[0]["value"][1]) if res else None

    def wait_value(self, q, want, secs=15):
        v = None
        end = time.time() + secs
        while time.time() < end:
            try:
                v = self.value(q)
            except OSError:
                v = None
            if v == want:
                return v
            time.sleep(0.5)
        return v

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def uclient(port, peer_port, user, pw):
    cmd = ["timeout", "-k", "2", "40", "turnutils_uclient", "-s", "-u", user, "-w", pw,
           "-p", str(port), "-n", "30", "-m", "1", "-l", "120", "-z", "20",
           "-e", "127.0.0.1", "-r", str(peer_port), "127.0.0.1"]
    tp.log("run:", " ".join(cmd))
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT).stdout.decode(
        errors="replace")
    m = re.findall(r"tot_send_msgs=(\d+), tot_recv_msgs=(\d+)\n", out)
    b = re.findall(r"tot_send_bytes ~ (\d+), tot_recv_bytes ~ (\d+)\n", out)
    if not m or not b:
        tp.log(out[-3000:])
        raise tp.Fail("uclient printed no totals")
    return int(m[-1][0]), int(m[-1][1]), int(b[-1][0]), int(b[-1][1])


def test(binary):
    for prog in ("prometheus", "turnutils_uclient", "turnutils_peer"):
        if not shutil.which(prog):
            tp.log("%s missing: skipped" % prog)
            raise SystemExit(tp.SKIP)
    mport = tp.free_port()
    peer_port = tp.free_port()
    peer = subprocess.Popen(["turnutils_peer", "-L", "127.0.0.1", "-p", str(peer_port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    prom = None
    try:
        with tp.Server(binary, {"u": "udp"}, {"metrics": '"http:127.0.0.1:%d"' % mport,
                                              "metrics-users": "1"}) as srv:
            prom = Prometheus(mport)
            tp.check(prom.wait_value('up{job="turnpike"}', 1, secs=30) == 1,
                     "Prometheus scrapes turnpike (up == 1)")
            tp.check(prom.value('turnpike_allocations{transport="udp",family="ipv4"}') == 0,
                     "no allocation before the run")
            # metrics-users = 1: live allocations of alice (5,000 B to her peer)
            # and bob (1,000 B): only alice, who relayed more, gets series
            import socket
            sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sink.bind(("127.0.0.1", 0))
            q_alice = 'turnpike_user_relayed_bytes_total{user="alice",direction="to_peer"}'
            clients = []
            for user, pw, n in ((tp.USER, tp.PASS, 50), ("bob", "bobpw", 10)):
                c = tp.UdpClient(srv.ports["u"], user=user, pw=pw)
                tp.check(c.allocate().cls == tp.SUCCESS, "%s allocates" % user)
                tp.check(c.permit(*sink.getsockname()).cls == tp.SUCCESS, "and permits")
                for _ in range(n):
                    c.send(*sink.getsockname(), b"u" * 100)
                clients.append(c)
            got = prom.wait_value(q_alice, 5000)
            tp.check(got == 5000, "alice's own series: the 5,000 bytes she relayed (%r)" % got)
            alloc_alice = prom.value('turnpike_user_allocations{user="alice"}')
            tp.check(alloc_alice is not None and alloc_alice >= 1,
                     "alice's allocation gauge (%r)" % alloc_alice)
            tp.check(prom.value('turnpike_user_allocations{user="other"}') >= 1 and
                     prom.value('turnpike_users_not_shown') == 1,
                     "bob, beyond metrics-users = 1, is only counted in user=\"other\"")
            n = prom.query('count(turnpike_user_relayed_bytes_total{direction="to_peer"})')
            tp.check(n and float(n[0]["value"][1]) == 1,
                     "one user's series, not two (%r)" % n)
            for c in clients:
                tp.check(c.req(tp.REFRESH, [(tp.A_LIFETIME, b"\0\0\0\0")]).cls == tp.SUCCESS,
                         "deleted")
            extra_p, extra_b = 60, 6000   # what they relayed, in the totals below
            # two uclient runs (bob's, then alice's)
            uclient(srv.ports["u"], peer_port, "bob", "bobpw")
            # alice relays more than bob did (ranking is by bytes)
            import threading

            res = {}
            t = threading.Thread(target=lambda: res.update(
                r=uclient(srv.ports["u"], peer_port, tp.USER, tp.PASS)))
            t.start()
            # while uclient runs, the gauge is up (uclient holds 2 allocations)
            seen = None
            end = time.time() + 15
            while time.time() < end and t.is_alive():
                seen = prom.value('turnpike_allocations{transport="udp",family="ipv4"}')
                if seen and seen >= 2:
                    break
                time.sleep(0.3)
            t.join()
            tp.check(seen is not None and seen >= 2,
                     "the allocation gauge showed uclient's allocations while it ran (%r)" % seen)
            sent, recv, sbytes, rbytes = res["r"]
            tp.check(sent > 0 and sent == recv, "uclient: %d sent, %d back" % (sent, recv))
            # totals: bob's run and alice's (each uclient run relays the same)
            tp.check(prom.wait_value('turnpike_relayed_packets_total{direction="to_peer",'
                                     'transport="udp"}', 2 * sent + extra_p) == 2 * sent + extra_p,
                     "relayed packets to peers: exactly what both runs sent (%d)" % (2 * sent))
            tp.check(prom.wait_value('turnpike_relayed_packets_total{direction="to_client",'
                                     'transport="udp"}', 2 * recv) == 2 * recv,
                     "relayed packets to clients: exactly what came back (%d)" % (2 * recv))
            tp.check(prom.wait_value('turnpike_relayed_bytes_total{direction="to_peer",'
                                     'transport="udp"}', 2 * sbytes + extra_b) ==
                     2 * sbytes + extra_b,
                     "relayed bytes to peers: %d" % (2 * sbytes))
            # uclient deletes the allocations it relayed on (one more it leaves
            # to expire): the gauge comes down with them
            low = None
            end = time.time() + 10
            while time.time() < end:
                low = prom.value('turnpike_allocations{transport="udp",family="ipv4"}')
                if low is not None and low < seen:
                    break
                time.sleep(0.3)
            tp.check(low is not None and low < seen,
                     "the gauge comes down once uclient deleted its allocations (%r)" % low)
            # coturn's finished-session counters, once the sessions ended
            tp.check(prom.wait_value('turn_traffic_sentp{realm="%s"}' % tp.REALM, 2 * recv) ==
                     2 * recv, "coturn's turn_traffic_sentp: the packets sent to clients")
            tp.check(prom.wait_value('turn_total_traffic_peer_sentp', 2 * sent + extra_p) ==
                     2 * sent + extra_p,
                     "coturn's turn_total_traffic_peer_sentp: the packets sent to peers")
            tp.check(srv.alive(), "server still running")
    finally:
        if prom:
            prom.stop()
        peer.terminate()
        peer.wait()


if __name__ == "__main__":
    tp.main(test)
