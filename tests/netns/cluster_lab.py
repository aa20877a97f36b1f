#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The three-node cluster lab (issue 14); run by cluster_lab.sh, which has
made the namespaces. This program starts Redis, three turnpike nodes, HAProxy
and a UDP echo peer in the lab's "pub" namespace (ip netns exec), opens the
clients' sockets inside the client namespaces (setns for the calling thread,
then back), and runs the cases:

1. user-quota (2) holds across the nodes: clients behind two NATs allocate on
   node 1 and node 2; a third Allocate, on node 3, gets 486;
2. a session started on node 1 is listed from node 3 (turnpikectl sessions
   --cluster, with the client's NAT address) and killed from node 3 (kill
   --cluster): node 1 answers the client's Refresh with 437;
3. node 2 is drained: the allocation it has keeps relaying, its new Allocates
   get 300 Try Alternate to a least loaded other node (from the loads the
   nodes publish in Redis), the client follows it and allocates there, and once the last allocation
   on node 2 is deleted it exits 0 by itself;
4. TURN over TCP through HAProxy in TCP mode allocates on a node: through
   its plain frontend the node sees HAProxy's address; through the one with
   send-proxy-v2 (to the nodes' proxy-protocol listeners, which trust only
   HAProxy) XOR-MAPPED-ADDRESS and sessions --cluster give NAT 1's address;
5. Redis is killed: relaying goes on and new allocations still work with the
   local quota; Redis comes back: the registry fills again with what was
   allocated meanwhile.

    cluster_lab.py TURNPIKE TURNPIKECTL LAB_TAG TMPDIR
"""
import contextlib
import ctypes
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "stream"))
import tpstream as tp  # noqa: E402

CLONE_NEWNET = 0x40000000
NODES = {1: "203.0.113.11", 2: "203.0.113.12", 3: "203.0.113.13"}
REDIS, HAPROXY, PEER = "203.0.113.20", "203.0.113.30", "203.0.113.40"
PORT = 3478
PROXY_PORT = 3479  # the nodes' proxy-protocol listeners, behind HAProxy's send-proxy-v2
NAT1 = "198.51.100.10"
A_ALTERNATE = 0x8023
libc = ctypes.CDLL(None, use_errno=True)


@contextlib.contextmanager
def netns(name):
    """Run the block in network namespace name (sockets made in it stay there)."""
    here = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    there = os.open("/run/netns/" + name, os.O_RDONLY)
    try:
        if libc.setns(there, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + name)
        yield
    finally:
        libc.setns(here, CLONE_NEWNET)
        os.close(here)
        os.close(there)


class Lab:
    def __init__(self, turnpike, ctl, tag, tmp):
        self.turnpike, self.ctl_bin, self.tag, self.tmp = turnpike, ctl, tag, tmp
        self.procs = {}

    def ns(self, name):
        return "%s-%s" % (self.tag, name)

    def spawn(self, key, argv, log):
        f = open(os.path.join(self.tmp, log), "w")
        p = subprocess.Popen(["ip", "netns", "exec", self.ns("pub")] + argv, stdout=f,
                             stderr=subprocess.STDOUT)
        self.procs[key] = p
        return p

    def stop(self, key, sig=signal.SIGTERM):
        p = self.procs.pop(key, None)
        if p and p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def stop_all(self):
        for k in list(self.procs):
            self.stop(k, signal.SIGKILL if k == "redis" else signal.SIGTERM)

    def log(self, name):
        with open(os.path.join(self.tmp, name), errors="replace") as f:
            return f.read()

    # ---- the components ----

    def redis_start(self):
        self.spawn("redis", ["redis-server", "--bind", REDIS, "--port", "6379", "--save", "",
                             "--appendonly", "no", "--dir", self.tmp,
                             "--protected-mode", "no"], "redis.log")
        for _ in range(100):
            r = subprocess.run(["ip", "netns", "exec", self.ns("pub"), "redis-cli", "-h", REDIS,
                                "PING"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            if r.stdout.strip() == b"PONG":
                return
            time.sleep(0.05)
        raise tp.Fail("redis did not start")

    def node_start(self, i):
        ip = NODES[i]
        sock = os.path.join(self.tmp, "admin%d.sock" % i)
        conf = os.path.join(self.tmp, "node%d.conf" % i)
        with open(conf, "w") as f:
            f.write('listen = [ "udp:%s:%d", "tcp:%s:%d", "tcp:%s:%d proxy-protocol" ];\n' %
                    (ip, PORT, ip, PORT, ip, PROXY_PORT))
            f.write('proxy-trusted = [ "%s/32" ];\n' % HAPROXY)
            f.write('relay-ip = [ "%s" ];\nrealm = "%s";\n' % (ip, tp.REALM))
            f.write('users = ( { name = "%s"; password = "%s"; }, '
                    '{ name = "bob"; password = "bobpw"; } );\n' % (tp.USER, tp.PASS))
            f.write('demo-user = false;\nuser-quota = 2;\nallowed-peer = [ "%s" ];\n' % PEER)
            f.write('redis = "redis://%s:6379/0";\nnode-id = "node-%d";\n' % (REDIS, i))
            f.write('admin = "unix:%s";\nmetrics = "http:%s:9641";\n' % (sock, ip))
            f.write('log-level = "info";\ndrain-deadline = 60;\n')
        self.spawn("node%d" % i, [self.turnpike, "-c", conf], "node%d.log" % i)
        end = time.time() + 15
        while time.time() < end:
            if "listening on" in self.log("node%d.log" % i):
                return
            if self.procs["node%d" % i].poll() is not None:
                break
            time.sleep(0.05)
        tp.log(self.log("node%d.log" % i))
        raise tp.Fail("node %d did not start" % i)

    def haproxy_start(self):
        cfg = os.path.join(self.tmp, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write("global\n  maxconn 100\ndefaults\n  mode tcp\n  timeout connect 2s\n"
                    "  timeout client 60s\n  timeout server 60s\n  option redispatch\n"
                    "frontend turn\n  bind %s:%d\n  default_backend nodes\n"
                    "backend nodes\n  balance roundrobin\n  source %s\n" % (HAPROXY, PORT, HAPROXY))
            for i, ip in NODES.items():
                f.write("  server node%d %s:%d\n" % (i, ip, PORT))
            # (all the lab's public addresses are on one lo: "source" makes HAProxy
            # connect from its own, the one the nodes trust)
            # the nodes' proxy-protocol listeners, told the client's address
            f.write("frontend turn_pp\n  bind %s:%d\n  default_backend nodes_pp\n"
                    "backend nodes_pp\n  balance roundrobin\n  source %s\n" % (HAPROXY, PROXY_PORT, HAPROXY))
            for i, ip in NODES.items():
                f.write("  server node%d %s:%d send-proxy-v2\n" % (i, ip, PROXY_PORT))
        self.spawn("haproxy", ["haproxy", "-f", cfg, "-db"], "haproxy.log")
        time.sleep(0.3)

    def peer_start(self):
        code = ("import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                "s.bind(('%s',5000))\nwhile True:\n d,a=s.recvfrom(65535)\n s.sendto(d,a)\n" % PEER)
        self.spawn("peer", ["python3", "-c", code], "peer.log")

    # ---- clients and tools ----

    def udp(self, cli, node, user=tp.USER, pw=tp.PASS):
        with netns(self.ns("cli%d" % cli)):
            c = tp.UdpClient(PORT, user=user, pw=pw, src="10.0.%d.2" % cli)
        c.dst = (NODES[node], PORT)
        return c

    def ctl(self, node, *args):
        r = subprocess.run([self.ctl_bin, "-s", os.path.join(self.tmp, "admin%d.sock" % node),
                            "--json"] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=30)
        if r.returncode != 0:
            raise tp.Fail("turnpikectl %s on node %d: %s" % (" ".join(args), node,
                                                            r.stderr.decode()))
        return json.loads(r.stdout.decode())

    def metric(self, node, name):
        with netns(self.ns("pub")):
            with urllib.request.urlopen("http://%s:9641/metrics" % NODES[node], timeout=5) as r:
                text = r.read().decode()
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return None


def wait_for(what, fn, secs=10):
    end = time.time() + secs
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    raise tp.Fail("timed out waiting for " + what)


def relay_ok(c, what):
    """A Send to the echo peer comes back as a Data indication."""
    payload = os.urandom(16)
    c.send(PEER, 5000, payload)
    end = time.time() + 3
    while time.time() < end:
        try:
            m = tp.Msg(c.s.recv(4096))
        except socket.timeout:
            break
        if m.method == tp.DATA and m.get(tp.A_DATA) == payload:
            tp.check(True, what)
            return
    raise tp.Fail(what + ": no echo")


def allocate_permit(c, what):
    m = c.allocate()
    tp.check(m.cls == tp.SUCCESS, "%s (%r)" % (what, m))
    tp.check(c.permit(PEER, 5000).cls == tp.SUCCESS, what + ": permission for the peer")
    return tp.unxor_addr(m.get(tp.A_XOR_MAPPED))


def refresh(c, lifetime):
    return c.req(tp.REFRESH, [(tp.A_LIFETIME, struct.pack("!I", lifetime))])


def run(lab):
    lab.redis_start()
    for i in NODES:
        lab.node_start(i)
    lab.haproxy_start()
    lab.peer_start()
    wait_for("all nodes on Redis", lambda: all(lab.metric(i, "turnpike_redis_up") == 1
                                               for i in NODES))
    tp.check(True, "three nodes up on one Redis")

    # 1. user-quota across nodes, from behind two NATs
    a1 = lab.udp(1, 1)
    mapped1 = allocate_permit(a1, "alice behind NAT 1 allocates on node 1")
    tp.check(mapped1[0] == NAT1, "node 1 sees NAT 1's address (%s)" % mapped1[0])
    a2 = lab.udp(2, 2)
    allocate_permit(a2, "alice behind NAT 2 allocates on node 2")
    a3 = lab.udp(2, 3)
    m = a3.allocate()
    tp.check(m.cls == tp.ERROR and m.code() == 486,
             "a third of alice's on node 3: 486, the quota holds across nodes (%r)" % m)
    relay_ok(a1, "node 1 relays to the peer and back")

    # 2. node 1's session seen and killed from node 3
    ses = wait_for("node 1's session in the registry", lambda: [
        x for x in lab.ctl(3, "sessions", "--cluster")["sessions"] if x["node"] == "node-1"])
    tp.check(ses[0]["client"] == "%s:%d" % mapped1 and ses[0]["user"] == tp.USER,
             "node 3 lists node 1's session with the NAT's address (%r)" % ses[0])
    k = lab.ctl(3, "kill", "--id", ses[0]["id"], "--cluster")
    tp.check(k["ok"], "node 3 sends the kill order (%r)" % k)
    wait_for("node 1 to end it", lambda: refresh(a1, 600).code() == 437)
    tp.check(True, "killed from node 3: node 1 answers alice's Refresh with 437")

    # 3. drain node 2: its allocation goes on, new ones go to node 3
    relay_ok(a2, "node 2 relays before the drain")
    subprocess.run([lab.ctl_bin, "-s", os.path.join(lab.tmp, "admin2.sock"), "drain"],
                   stdout=subprocess.DEVNULL, timeout=10)
    relay_ok(a2, "node 2 still relays for its allocation while draining")
    tp.check(refresh(a2, 600).cls == tp.SUCCESS, "and refreshes it")
    b = lab.udp(2, 2, user="bob", pw="bobpw")
    m = wait_for("a 300 from node 2", lambda: (lambda r: r if r.code() == 300 else None)(
        b.allocate()))
    alt = m.get(A_ALTERNATE)
    alt_ip = socket.inet_ntoa(alt[4:8])
    tp.check(alt_ip in (NODES[1], NODES[3]),
             "node 2 sends bob to a least loaded other node (%s)" % alt_ip)
    b.dst = (alt_ip, struct.unpack("!H", alt[2:4])[0])
    allocate_permit(b, "bob follows the 300 and allocates there")
    relay_ok(b, "the other node relays for bob")
    tp.check(refresh(a2, 0).cls == tp.SUCCESS, "node 2's last allocation deleted")
    p2 = lab.procs["node2"]
    try:
        rc = p2.wait(10)
    except subprocess.TimeoutExpired:
        rc = None
    tp.check(rc == 0, "drained node 2 exits 0 by itself once its last allocation ended (%r)"
             % rc)
    lab.procs.pop("node2")

    # 4. TURN over TCP through HAProxy: plain, then with send-proxy-v2
    with netns(lab.ns("cli1")):
        s = socket.create_connection((HAPROXY, PORT), timeout=5)
    t = tp.Client(s, user="bob", pw="bobpw")
    m = t.request(tp.ALLOCATE, [(tp.A_REQ_TRANSPORT, bytes([17, 0, 0, 0]))])
    tp.check(m.cls == tp.SUCCESS, "TURN/TCP through HAProxy allocates (%r)" % m)
    relay = tp.unxor_addr(m.get(tp.A_XOR_RELAYED))
    tp.check(relay[0] in (NODES[1], NODES[3]),
             "TURN/TCP through HAProxy allocates on a live node (%s)" % relay[0])
    via = tp.unxor_addr(m.get(tp.A_XOR_MAPPED))
    tp.check(via[0] == HAPROXY, "without the PROXY protocol the node sees HAProxy (%s)" % via[0])
    t.close()
    with netns(lab.ns("cli1")):
        s = socket.create_connection((HAPROXY, PROXY_PORT), timeout=5)
    t = tp.Client(s, user="bob", pw="bobpw")
    m = t.request(tp.ALLOCATE, [(tp.A_REQ_TRANSPORT, bytes([17, 0, 0, 0]))])
    tp.check(m.cls == tp.SUCCESS, "TURN/TCP through HAProxy send-proxy-v2 allocates (%r)" % m)
    relay = tp.unxor_addr(m.get(tp.A_XOR_RELAYED))
    via = tp.unxor_addr(m.get(tp.A_XOR_MAPPED))
    tp.check(via[0] == NAT1, "with send-proxy-v2 XOR-MAPPED-ADDRESS is NAT 1's %s:%d, not "
             "HAProxy's" % via)
    node = [i for i, ip in NODES.items() if ip == relay[0]][0]
    ses = wait_for("the proxied session in the registry", lambda: [
        x for x in lab.ctl(3, "sessions", "--cluster")["sessions"]
        if x["node"] == "node-%d" % node and x["transport"] == "tcp"])
    tp.check(ses[0]["client"] == "%s:%d" % via,
             "sessions --cluster lists it under NAT 1's address (%s)" % ses[0]["client"])
    t.close()

    # 5. Redis killed and back
    lab.stop("redis", signal.SIGKILL)
    wait_for("redis_up 0", lambda: lab.metric(1, "turnpike_redis_up") == 0)
    relay_ok(b, "Redis down: bob's node still relays")
    c = lab.udp(1, 1, user="bob", pw="bobpw")
    t0 = time.time()
    mapped_c = allocate_permit(c, "Redis down: a new allocation on node 1 (local quota)")
    tp.check(time.time() - t0 < 2, "... without waiting on Redis")
    lab.redis_start()
    wait_for("redis_up 1", lambda: lab.metric(3, "turnpike_redis_up") == 1, secs=20)
    ses = wait_for("the registry refilled", lambda: [
        x for x in lab.ctl(3, "sessions", "--cluster")["sessions"]
        if x["node"] == "node-1" and x["client"] == "%s:%d" % mapped_c], secs=20)
    tp.check(len(ses) == 1, "Redis back: the session made while it was down is listed")
    for i in (1, 3):
        tp.check(lab.procs["node%d" % i].poll() is None, "node %d still running" % i)


def main():
    lab = Lab(*sys.argv[1:5])
    try:
        run(lab)
    except tp.Fail as e:
        for n in ("node1.log", "node2.log", "node3.log"):
            try:
                tp.log("---- %s (tail)\n%s" % (n, "\n".join(lab.log(n).splitlines()[-25:])))
            except OSError:
                pass
        tp.log("FAIL:", e)
        return 1
    finally:
        lab.stop_all()
    tp.log("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
