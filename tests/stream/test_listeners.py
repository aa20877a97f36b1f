#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Issue 17 item 2: listeners that collide.

    test_listeners.py TURNPIKE inuse|demux

inuse: a first turnpike (two workers: an SO_REUSEPORT group) holds a UDP and a
  TCP port; a second one started on the same UDP port, then on the same TCP
  port, exits nonzero at once saying "address in use by another process" and
  naming the listener, and the first still answers every Binding on both (the
  second never joined its group to take half the datagrams).
demux: udp: and dtls: on one address and port (RFC 7983 first-byte
  demultiplexing on one socket, two workers): 40 UDP Bindings and 10 DTLS
  handshakes by openssl s_client, each carrying a Binding over DTLS, all
  answered, interleaved; and coturn's turnutils_uclient relays over DTLS and
  UDP on that port (when installed).
"""
import os
import re
import select
import shutil
import socket
import struct
import subprocess
import time

import tpstream as tp


def udp_bindings(port, n, src="127.0.0.1"):
    """n Bindings from n fresh sockets (so SO_REUSEPORT spreads them); the
    number answered."""
    ok = 0
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((src, 0))
        s.settimeout(1)
        tid = os.urandom(12)
        try:
            s.sendto(tp.encode(tp.BINDING, tp.REQUEST, [], tid), ("127.0.0.1", port))
            m = tp.Msg(s.recv(2048))
            ok += m.tid == tid and m.cls == tp.SUCCESS and m.get(tp.A_XOR_MAPPED) is not None
        except OSError:
            pass
        finally:
            s.close()
    return ok


def tcp_bindings(port, n):
    ok = 0
    for _ in range(n):
        try:
            c = tp.Client(tp.connect(port, timeout=2))
            m = c.request(tp.BINDING, auth=False, timeout=2)
            ok += m.cls == tp.SUCCESS
            c.close()
        except (OSError, EOFError, tp.Fail):
            pass
    return ok


def inuse(binary):
    with tp.Server(binary, {"u": "udp", "t": "tcp"}, {"workers": "2"}, share={"t": "u"}) as srv:
        P = srv.ports["u"]
        tp.check(udp_bindings(P, 20) == 20 and tcp_bindings(P, 5) == 5,
                 "first server answers 20 UDP and 5 TCP Bindings on port %d" % P)
        for proto in ("udp", "tcp"):
            rc, out = second_on(binary, proto, P)
            tp.check(rc is not None and rc != 0, "second server on %s port %d exits nonzero "
                     "(%s)" % (proto, P, rc))
            tp.check(re.search(r"listen %s 127\.0\.0\.1:%d \(listen, /[^ ]*turnpike\.conf:\d+\): "
                               r"address in use by another process" % (proto, P), out),
                     "it names the listener, where it is set and says \"address in use by "
                     "another process\"")
            tp.check(srv.alive(), "the first server is still running")
            u, t = udp_bindings(P, 40), tcp_bindings(P, 5)
            tp.check(u == 40 and t == 5, "the first still answers every Binding: UDP %d/40, "
                     "TCP %d/5" % (u, t))


def second_on(binary, proto, port):
    """A second server with a proto listener on port and the other kind on a
    free port."""
    d = tp.Server(binary, {"x": "udp"}, {"workers": "2"})
    other = "tcp" if proto == "udp" else "udp"
    with open(d.conf_path) as f:
        text = f.read()
    lines = [l for l in text.splitlines() if not l.startswith("listen =")]
    lines.append('listen = [ "%s:127.0.0.1:%d", "%s:127.0.0.1:%d" ];' %
                 (other, tp.free_port(), proto, port))
    with open(d.conf_path, "w") as f:
        f.write("\n".join(lines) + "\n")
    p = subprocess.Popen([binary, "-c", d.conf_path], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT)
    try:
        rc = p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        rc = None
    out = p.stdout.read().decode(errors="replace")
    p.stdout.close()
    shutil.rmtree(d.dir, ignore_errors=True)
    tp.log("second server (%s on %d): exit %s: %s" % (proto, port, rc, out.strip()[-300:]))
    return rc, out


def dtls_binding(port, k):
    """openssl s_client: a DTLS 1.2 handshake, then a Binding inside it.
    True when the answer (its transaction ID) came back."""
    tid = os.urandom(12)
    p = subprocess.Popen(["openssl", "s_client", "-dtls1_2", "-quiet", "-connect",
                          "127.0.0.1:%d" % port, "-bind", "127.0.0.%d:0" % (20 + k)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    out = b""
    try:
        # -quiet prints nothing before the handshake ends: send at once, the
        # request waits in s_client's stdin until the session is up
        p.stdin.write(struct.pack("!HHI", 1, 0, tp.MAGIC) + tid)
        p.stdin.flush()
        deadline = time.time() + 5
        while time.time() < deadline and tid not in out:
            r, _, _ = select.select([p.stdout], [], [], 0.2)
            if r:
                b = os.read(p.stdout.fileno(), 4096)
                if not b:
                    break
                out += b
    finally:
        p.kill()
        p.wait()
        p.stdin.close()
        p.stdout.close()
    i = out.find(tid)
    return i >= 8 and out[i - 8:i - 6] == b"\x01\x01"


def demux(binary):
    if not shutil.which("openssl"):
        raise SystemExit(tp.SKIP)
    with tp.Server(binary, {"u": "udp", "d": "dtls"}, {"workers": "2"}, tls=True,
                   share={"d": "u"}) as srv:
        P = srv.ports["u"]
        tp.check(srv.ports["d"] == P, "udp: and dtls: on one port %d" % P)
        tp.check("on the udp socket of that port" in srv.read_log(),
                 "the DTLS listener rides on the UDP socket")
        udp_ok = dtls_ok = 0
        for k in range(10):
            udp_ok += udp_bindings(P, 4)
            dtls_ok += dtls_binding(P, k)
        tp.log("UDP Bindings %d/40, DTLS handshakes with a Binding %d/10" % (udp_ok, dtls_ok))
        tp.check(udp_ok == 40, "40 of 40 UDP Bindings answered on the shared port")
        tp.check(dtls_ok == 10, "10 of 10 DTLS handshakes (and their Bindings) on the shared "
                 "port")
        if shutil.which("turnutils_uclient") and shutil.which("turnutils_peer"):
            # coturn's client relays over DTLS (-S) and over UDP on the one port
            import test_uclient
            peer_port = tp.free_port()
            peer = subprocess.Popen(["turnutils_peer", "-L", "127.0.0.1", "-p", str(peer_port)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                test_uclient.run_uclient(["-S"], P, peer_port, "uclient DTLS on the shared port")
                test_uclient.run_uclient([], P, peer_port, "uclient UDP on the shared port")
            finally:
                peer.terminate()
                peer.wait()
        tp.check(srv.alive(), "server still running")


def test(binary, mode):
    {"inuse": inuse, "demux": demux}[mode](binary)


if __name__ == "__main__":
    tp.main(test)
