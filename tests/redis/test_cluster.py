#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Two turnpike nodes on loopback (127.0.0.1 and 127.0.0.2) sharing one real
redis-server, started and stopped by this test:

- user-quota holds across the nodes (486 "across the cluster" on the node
  that would exceed it), and a released allocation frees the slot;
- the session registry: node 2 lists node 1's session (turnpikectl sessions
  --cluster) and kills it (kill --user --cluster): node 1's allocation is
  gone (Refresh gets 437);
- users and REST secrets from coturn's redis userdb layout, added at run
  time with redis-cli, authenticate on a node that has no such user;
- a draining node sends a new Allocate to the least loaded other node the
  store knows of (300 ALTERNATE-SERVER), with no alternate-server set;
- Redis killed: allocations still work (local quota), turnpike_redis_up 0;
  Redis back: the registry fills again, redis_up 1.

    test_cluster.py TURNPIKE TURNPIKECTL

Costs about 30 s.
"""
import hashlib
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "stream"))
import tpstream as tp  # noqa: E402

A_ALTERNATE = 0x8023


class Redis:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="tp-redis-")
        self.port = tp.free_port()
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir, "--notify-keyspace-events", "K$gs"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if self.cli("PING").strip() == "PONG":
                return
            time.sleep(0.05)
        raise tp.Fail("redis-server did not start")

    def cli(self, *args):
        r = subprocess.run(["redis-cli", "-p", str(self.port)] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=10)
        return r.stdout.decode()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


class Ctl:
    def __init__(self, binary, sock):
        self.binary, self.sock = binary, sock

    def json(self, *args):
        r = subprocess.run([self.binary, "-s", self.sock, "--json"] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        tp.check(r.returncode == 0, "turnpikectl %s: exit 0 (%s)" %
                 (" ".join(args), r.stderr.decode().strip()))
        return json.loads(r.stdout.decode())


def node(binary, ip, name, redis, extra=None):
    mport = tp.free_port()
    opts = {"redis": '"redis://127.0.0.1:%d/0"' % redis.port, "node-id": '"%s"' % name,
            "user-quota": "2", "metrics": '"http:127.0.0.1:%d"' % mport,
            "relay-ip": '[ "%s" ]' % ip}
    opts.update(extra or {})
    srv = tp.Server(binary, {"u": "udp"}, opts)
    # listen on this node's own address
    with open(srv.conf_path) as f:
        conf = f.read()
    conf = conf.replace('"udp:127.0.0.1:', '"udp:%s:' % ip)
    sock = os.path.join(srv.dir, "admin.sock")
    conf = conf.replace('admin = "";', 'admin = "unix:%s";' % sock)
    with open(srv.conf_path, "w") as f:
        f.write(conf)
    srv.ip, srv.mport, srv.sock = ip, mport, sock
    return srv


def client(srv, user=tp.USER, pw=tp.PASS):
    c = tp.UdpClient(srv.ports["u"], user=user, pw=pw)
    c.dst = (srv.ip, srv.ports["u"])
    return c


def metric(srv, name):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % srv.mport, timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    return None


def wait_for(what, fn, secs=8):
    end = time.time() + secs
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    raise tp.Fail("timed out waiting for " + what)


def refresh(c, lifetime):
    return c.req(tp.REFRESH, [(tp.A_LIFETIME, struct.pack("!I", lifetime))])


def test(binary, ctl_bin):
    if not shutil.which("redis-server") or not shutil.which("redis-cli"):
        tp.log("redis-server or redis-cli missing: skipped")
        sys.exit(tp.SKIP)
    redis = Redis()
    redis.start()
    n1 = node(binary, "127.0.0.1", "node-1", redis)
    n2 = node(binary, "127.0.0.2", "node-2", redis)
    try:
        with n1, n2:
            ctl1, ctl2 = Ctl(ctl_bin, n1.sock), Ctl(ctl_bin, n2.sock)
            wait_for("both nodes up on Redis", lambda: metric(n1, "turnpike_redis_up") == 1 and
                     metric(n2, "turnpike_redis_up") == 1)
            st = ctl1.json("status")
            tp.check(st["cluster"] == {"node": "node-1", "redis_up": True},
                     "status names the node and the store (%r)" % st.get("cluster"))

            # user-quota 2 across the nodes
            a = client(n1)
            b = client(n2)
            tp.check(a.allocate().cls == tp.SUCCESS, "alice's first allocation, on node 1")
            tp.check(b.allocate().cls == tp.SUCCESS, "alice's second, on node 2")
            c = client(n1)
            m = c.allocate()
            tp.check(m.cls == tp.ERROR and m.code() == 486 and "cluster" in m.reason(),
                     "a third on node 1: 486 across the cluster (%r)" % m)
            tp.check(refresh(b, 0).cls == tp.SUCCESS, "node 2's allocation deleted")
            # node 2 gives the slot back to Redis after answering (no request
            # waits on the store), so node 1 may still count it for a moment
            m = wait_for("the slot free again on node 1",
                         lambda: (lambda r: r if r.cls == tp.SUCCESS else None)(c.allocate()),
                         secs=3)
            tp.check(m.cls == tp.SUCCESS, "the slot is free again: allocated on node 1 (%r)" % m)
            tp.check(refresh(c, 0).cls == tp.SUCCESS, "and deleted")

            # the registry: node 2 sees node 1's session, and kills it
            ses = wait_for("node 1's session in the registry",
                           lambda: [x for x in ctl2.json("sessions", "--cluster")["sessions"]
                                    if x["node"] == "node-1" and x["user"] == tp.USER])
            cport = a.s.getsockname()[1]
            tp.check(ses[0]["client"] == "127.0.0.1:%d" % cport and
                     ses[0]["relay"][0].startswith("127.0.0.1:"),
                     "listed from node 2 with node 1's client and relay address (%r)" % ses[0])
            k = ctl2.json("kill", "--user", tp.USER, "--cluster")
            tp.check(k["ok"] and k["instances"] >= 2, "kill order published (%r)" % k)
            m = wait_for("node 1's allocation killed", lambda: (lambda r: r if r.cls == tp.ERROR
                                                                and r.code() == 437 else None)(
                refresh(a, 600)))
            tp.check(True, "node 1's allocation is gone: Refresh gets 437")
            tp.check("killed" in n1.read_log() and "cluster: kill order" in n1.read_log(),
                     "node 1 logged the kill order")

            # coturn's userdb: a user and a REST secret written at run time
            key = hashlib.md5(b"carol:%s:carolpw" % tp.REALM.encode()).hexdigest()
            redis.cli("SET", "turn/realm/%s/user/carol/key" % tp.REALM, key)
            redis.cli("SADD", "turn/realm/%s/secret" % tp.REALM, "s3cret")
            carol = client(n2, user="carol", pw="carolpw")
            m = wait_for("carol from the userdb", lambda: (lambda r: r if r.cls == tp.SUCCESS
                                                           else None)(carol.allocate()))
            tp.check(True, "carol (only in Redis, coturn's layout) allocates on node 2")
            import base64
            import hmac
            rest_user = "%d:dave" % (time.time() + 3600)
            rest_pw = base64.b64encode(hmac.new(b"s3cret", rest_user.encode(),
                                                hashlib.sha1).digest()).decode()
            dave = client(n1, user=rest_user, pw=rest_pw)
            tp.check(dave.allocate().cls == tp.SUCCESS,
                     "a REST credential from a secret only in Redis allocates on node 1")

            # drain node 1: new Allocates go to the least loaded other node
            subprocess.run([ctl_bin, "-s", n1.sock, "drain"], stdout=subprocess.DEVNULL,
                           timeout=10)
            e = client(n1, user="bob", pw="bobpw")
            # the nodes publish their loads every 2 s
            m = wait_for("a 300 from node 1", lambda: (lambda r: r if r.code() == 300 else None)(
                e.allocate()))
            alt = m.get(A_ALTERNATE)
            tp.check(m.cls == tp.ERROR and m.code() == 300 and alt is not None,
                     "draining node 1 answers 300 Try Alternate (%r)" % m)
            tp.check(socket.inet_ntoa(alt[4:8]) == "127.0.0.2" and
                     struct.unpack("!H", alt[2:4])[0] == n2.ports["u"],
                     "... to node 2, the least loaded node the store knows")
            subprocess.run([ctl_bin, "-s", n1.sock, "undrain"], stdout=subprocess.DEVNULL,
                           timeout=10)

            # Redis goes away: the nodes keep working on local quotas
            redis.stop()
            wait_for("redis_up 0", lambda: metric(n1, "turnpike_redis_up") == 0)
            f = client(n2, user="bob", pw="bobpw")
            t0 = time.monotonic()
            tp.check(f.allocate().cls == tp.SUCCESS, "Redis down: Allocate still succeeds")
            tp.check(time.monotonic() - t0 < 2, "... without waiting on Redis")
            tp.check(n1.read_log().count("down") >= 1, "the link going down is logged")
            # back: the registry fills again with what exists
            redis.start()
            wait_for("redis_up 1", lambda: metric(n2, "turnpike_redis_up") == 1, secs=15)
            ses = wait_for("the registry refilled",
                           lambda: [x for x in ctl1.json("sessions", "--cluster")["sessions"]
                                    if x["user"] == "bob" and x["node"] == "node-2"], secs=15)
            tp.check(len(ses) == 1, "bob's session made while Redis was down is listed")
            tp.check(n1.alive() and n2.alive(), "both nodes still running")
    finally:
        redis.stop()


if __name__ == "__main__":
    tp.main(test)
