# SPDX-License-Identifier: BSD-3-Clause
"""offload_server.py - turnpike with kernel-offload on or off, real packets in
three namespaces (offload_server.sh builds them):

  [cli] c0 198.51.100.2 ---- s0 198.51.100.1 [srv] s1 203.0.113.1 ---- p0 203.0.113.2, .3 [peer]
                             listener :3478          relay address          peers

The server namespace does not forward, so nothing reaches the other side
unless turnpike (or its kernel path) relays it. Client and peer interfaces
compute their UDP checksums (tx checksum offload off), as real hosts' NICs
do; otherwise every datagram would reach TC as CHECKSUM_PARTIAL and stay in
user space (docs/OFFLOAD.md, Checksums).

Cases, for both modes (the relaying checks are the same):
  1. turnutils_uclient relays through channels: every message comes back.
  2. a client of ours: ChannelData both ways, exact payloads;
  3. a peer without permission: nothing reaches the client;
  4. a permitted peer port without a channel: a Data indication (user space);
  5. the counters the server reports (/metrics) equal what the clients sent;
  6. after Refresh(0) the peer's datagrams reach nobody, the kernel path
     stopped (its counters do not move), the channels are gone and the
     allocation-end log line has what was sent;
  8. mobility: after a move peer data reaches the new 5-tuple only; the move
     takes the channel out of the kernel, the next ChannelBind refresh from
     the new 5-tuple puts it back;
  7. a reload that sets max-bps: the channel leaves the kernel at once, user
     space relays it, and a new ChannelBind is not installed.
With offload on, also: it loaded, the kernel carried most datagrams and the
program's own decision counters agree.

With kernel-offload asked for but no privileges (unpriv: the server runs as
nobody without capabilities): one warning line, then everything as with off.

  offload_server.py TURNPIKE on|off|unpriv SRV_NS CLI_NS PEER_NS
"""
import ctypes
import fcntl
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "stream"))
import tpstream as tp  # noqa: E402

LISTEN = ("198.51.100.1", 3478)
RELAY_IP = "203.0.113.1"
PEER_IP, STRANGER_IP = "203.0.113.2", "203.0.113.3"
CLIENT_IP = "198.51.100.2"
MOBILITY_TICKET = 0x8030
UPEER_PORT, PEER_PORT, OTHER_PORT = 3480, 4000, 4001
METRICS_PORT = 9641
N, SIZE = 60, 200                   # our client's datagrams each way, bytes each
UC_N, UC_LEN = 200, 120             # turnutils_uclient's messages, bytes each

libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


HOME = os.open("/proc/self/ns/net", os.O_RDONLY)   # where we started


def enter(ns):
    """Switch this (single-threaded) process to netns ns (a name, or HOME):
    sockets made now stay in it."""
    fd = HOME if ns == HOME else os.open("/run/netns/" + ns, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise tp.Fail("setns %s: %s" % (ns, os.strerror(ctypes.get_errno())))
    finally:
        if fd != HOME:
            os.close(fd)


def tx_csum_off(ifname):
    """ETHTOOL_STXCSUM 0 (what `ethtool -K IF tx off` does) in the current ns."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ev = ctypes.create_string_buffer(struct.pack("II", 0x17, 0), 8)
    ifr = struct.pack("16sP", ifname.encode(), ctypes.addressof(ev)) + b"\0" * 16
    fcntl.ioctl(s.fileno(), 0x8946, ifr)           # SIOCETHTOOL
    s.close()


def metrics(srv_ns, home):
    enter(srv_ns)
    try:
        c = socket.create_connection(("127.0.0.1", METRICS_PORT), timeout=3)
        c.sendall(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
        data = b""
        while True:
            b = c.recv(65536)
            if not b:
                break
            data += b
        c.close()
    finally:
        enter(home)
    out = {}
    for line in data.decode().splitlines():
        m = re.match(r"^(turnpike_[a-z_]+(?:\{[^}]*\})?) (\d+)$", line)
        if m:
            out[m.group(1)] = int(m.group(2))
    return out


def after_tick(srv_ns, home):
    """Metrics once every worker ticked (counters folded) after now."""
    time.sleep(1.5)
    return metrics(srv_ns, home)


def recv_all(sock, n, timeout):
    got = []
    sock.settimeout(0.2)
    end = time.time() + timeout
    while len(got) < n and time.time() < end:
        try:
            got.append(sock.recvfrom(4096))
        except socket.timeout:
            pass
    return got


def nothing_arrives(sock, within):
    return recv_all(sock, 1, within) == []


def run(binary, mode, srv_ns, cli_ns, peer_ns):
    home = HOME
    procs = []
    d = tp.tempfile.mkdtemp(prefix="tp-offload-srv-")
    try:
        _run(binary, mode, srv_ns, cli_ns, peer_ns, home, procs, d)
    finally:
        for p in procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
        # a sanitizer build reports leaks and errors at exit
        logp = os.path.join(d, "turnpike.log")
        san = open(logp, errors="replace").read() if os.path.exists(logp) else ""
        tp.shutil.rmtree(d, ignore_errors=True)
        if "Sanitizer" in san or "runtime error" in san:
            print(san[-4000:])
            raise tp.Fail("the server's sanitizer reported errors")


def _run(binary, mode, srv_ns, cli_ns, peer_ns, home, procs, d):
    on = mode == "on"
    os.chmod(d, 0o755)
    conf = os.path.join(d, "turnpike.conf")
    logp = os.path.join(d, "turnpike.log")
    with open(conf, "w") as f:
        f.write('listen = [ "udp:%s:%d" ];\n' % LISTEN)
        f.write('relay-ip = [ "%s" ];\nmin-port = 50000;\nmax-port = 50099;\n' % RELAY_IP)
        f.write('realm = "test";\nusers = ( { name = "alice"; password = "alicepw"; } );\n')
        f.write('demo-user = false;\nunauth-rate = 0;\nallowed-peer = [ "203.0.113.0/24" ];\n')
        f.write('default-lifetime = 60;\nmax-lifetime = 60;\nadmin = "";\n')
        f.write('legacy-channels = true;\nmobility = true;\nlog-level = "debug";\n')
        f.write('metrics = "http:127.0.0.1:%d";\n' % METRICS_PORT)
        f.write('kernel-offload = %s;\n' % ("false" if mode == "off" else "true"))
    os.chmod(conf, 0o644)
    logf = open(logp, "w")
    # unpriv: asked for, but without the privileges (nobody, no capabilities)
    drop = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all"] if mode == "unpriv" else []
    srv = subprocess.Popen(["ip", "netns", "exec", srv_ns] + drop + [binary, "-c", conf],
                           stdout=logf, stderr=subprocess.STDOUT)
    procs.append(srv)

    def server_log():
        with open(logp, errors="replace") as f:
            return f.read()

    end = time.time() + 10
    while "listening on" not in server_log():
        if srv.poll() is not None or time.time() > end:
            print(server_log()[-3000:])
            raise tp.Fail("server did not start")
        time.sleep(0.05)
    try:
        if on:
            tp.check("offload: kernel datapath on" in server_log(), "kernel datapath loaded")
        elif mode == "unpriv":
            lines = [l for l in server_log().splitlines() if "offload:" in l]
            tp.check(len(lines) == 1 and " W offload: kernel datapath disabled, relaying in user "
                     "space: " in lines[0], "unprivileged: one warning %s" % lines)
        else:
            tp.check("offload:" not in server_log(), "kernel-offload off: not loaded")
        m0 = metrics(srv_ns, home)
        tp.check(m0.get("turnpike_offload_enabled") == (1 if on else 0),
                 "turnpike_offload_enabled %s" % m0.get("turnpike_offload_enabled"))

        for ns, ifname in ((cli_ns, "c0"), (peer_ns, "p0")):
            enter(ns)
            tx_csum_off(ifname)
        enter(home)
        procs.append(subprocess.Popen(["ip", "netns", "exec", peer_ns, "turnutils_peer", "-L",
                                       PEER_IP, "-p", str(UPEER_PORT)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        time.sleep(0.3)

        # 1. turnutils_uclient through channels
        uc = subprocess.run(["timeout", "20", "ip", "netns", "exec", cli_ns, "turnutils_uclient",
                             "-p", str(LISTEN[1]), "-e", PEER_IP, "-r", str(UPEER_PORT), "-X",
                             "-c", "-u", "alice", "-w", "alicepw", "-n", str(UC_N), "-l",
                             str(UC_LEN), "-z", "5", LISTEN[0]],
                            capture_output=True, text=True)
        out = uc.stdout + uc.stderr
        sent = re.findall(r"tot_send_msgs=(\d+)", out)
        recv = re.findall(r"tot_recv_msgs=(\d+)", out)
        sent, recv = (int(sent[-1]) if sent else -1), (int(recv[-1]) if recv else -1)
        if sent != UC_N or recv != UC_N or re.search(r"(?i)error|cannot|failure|wrong", out):
            print(out[-3000:])
        tp.check(uc.returncode == 0 and sent == UC_N and recv == UC_N,
                 "uclient: sent %d, received %d of %d" % (sent, recv, UC_N))
        tp.check(not re.search(r"(?i)error|cannot|failure|wrong", out), "uclient: no error line")
        m1 = after_tick(srv_ns, home)
        k_peer = m1['turnpike_offload_packets_total{direction="to_peer"}']
        k_cli = m1['turnpike_offload_packets_total{direction="to_client"}']
        if on:
            # uclient deletes its allocations when it is done
            tp.check(m1["turnpike_offload_installed_total"] >= 1 and
                     m1["turnpike_offload_channels"] == 0,
                     "uclient's channels were installed (%d), and removed with its allocation "
                     "(%d left)"
                     % (m1["turnpike_offload_installed_total"], m1["turnpike_offload_channels"]))
            tp.check(k_peer >= 0.8 * UC_N and k_cli >= 0.8 * UC_N,
                     "the kernel carried most of uclient's datagrams: %d/%d to the peer, %d/%d "
                     "back" % (k_peer, UC_N, k_cli, UC_N))
            tp.check(m1['turnpike_offload_bytes_total{direction="to_peer"}'] == k_peer * UC_LEN,
                     "kernel bytes = kernel packets x %d" % UC_LEN)
            tp.check(m1['turnpike_offload_datagrams_total{reason="c2p"}'] == k_peer and
                     m1['turnpike_offload_datagrams_total{reason="p2c"}'] == k_cli and
                     # a real checksum equal to the seed: 1 in 65,536
                     m1['turnpike_offload_datagrams_total{reason="csum-partial"}'] <= 2,
                     "the program's own decisions agree: %d c2p, %d p2c, %d csum-partial"
                     % (m1['turnpike_offload_datagrams_total{reason="c2p"}'],
                        m1['turnpike_offload_datagrams_total{reason="p2c"}'],
                        m1['turnpike_offload_datagrams_total{reason="csum-partial"}']))
        else:
            tp.check(k_peer == 0 and k_cli == 0 and m1["turnpike_offload_channels"] == 0 and
                     not any(k.startswith("turnpike_offload_datagrams") for k in m1),
                     "nothing relayed by the kernel")
        up = 'turnpike_relayed_packets_total{direction="to_peer",transport="udp"}'
        dn = 'turnpike_relayed_packets_total{direction="to_client",transport="udp"}'
        upb = 'turnpike_relayed_bytes_total{direction="to_peer",transport="udp"}'
        dnb = 'turnpike_relayed_bytes_total{direction="to_client",transport="udp"}'
        tp.check(m1[up] == sent and m1[dn] == recv and m1[upb] == sent * UC_LEN and
                 m1[dnb] == recv * UC_LEN,
                 "server counts = uclient's: %d/%d pkts, %d/%d B each way"
                 % (m1[up], m1[dn], m1[upb], m1[dnb]))

        # 2. our client: a channel to PEER_IP:PEER_PORT, both ways
        enter(peer_ns)
        peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        peer.bind((PEER_IP, PEER_PORT))
        other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        other.bind((PEER_IP, OTHER_PORT))
        stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        stranger.bind((STRANGER_IP, PEER_PORT))
        enter(cli_ns)
        c = tp.UdpClient(0, user="alice", pw="alicepw", src=CLIENT_IP)
        c.dst = LISTEN
        enter(home)
        a = c.allocate()
        tp.check(a.cls == tp.SUCCESS, "Allocate: %r" % a)
        relay = tp.unxor_addr(a.get(tp.A_XOR_RELAYED))
        tp.check(relay[0] == RELAY_IP, "relayed address %s:%d" % relay)
        tp.check(c.channel_bind(0x4001, PEER_IP, PEER_PORT).cls == tp.SUCCESS, "ChannelBind")
        tp.check(c.permit(PEER_IP, OTHER_PORT).cls == tp.SUCCESS, "CreatePermission")
        time.sleep(0.1)
        for i in range(N):
            c.chandata(0x4001, bytes([i]) * SIZE)
        got = recv_all(peer, N, 3)
        tp.check(len(got) == N and all(g[0] == bytes([i]) * SIZE and g[1] == relay
                                       for i, g in enumerate(got)),
                 "client -> peer: %d/%d datagrams exact, from the relay address" % (len(got), N))
        for i in range(N):
            peer.sendto(bytes([i ^ 0x5A]) * SIZE, relay)
        got = recv_all(c.s, N, 3)
        want = [struct.pack("!HH", 0x4001, SIZE) + bytes([i ^ 0x5A]) * SIZE for i in range(N)]
        tp.check([g[0] for g in got] == want and all(g[1] == LISTEN for g in got),
                 "peer -> client: %d/%d ChannelData exact, from the listener" % (len(got), N))

        # 3. no permission: nothing; 4. permission, no channel: a Data indication
        stranger.sendto(b"from a stranger", relay)
        tp.check(nothing_arrives(c.s, 0.5), "a peer without permission reaches nobody")
        other.sendto(b"no channel here", relay)
        got = recv_all(c.s, 1, 2)
        ok = False
        if got:
            msg = tp.Msg(got[0][0])
            ok = (msg.method, msg.cls) == (tp.DATA, tp.INDICATION) and \
                msg.get(tp.A_DATA) == b"no channel here"
        tp.check(ok, "a permitted peer without a channel: Data indication")

        # 5. counters
        m2 = after_tick(srv_ns, home)
        if on:
            tp.check(m2["turnpike_offload_channels"] == m1["turnpike_offload_channels"] + 1,
                     "our channel is in the kernel")
            dk = m2['turnpike_offload_packets_total{direction="to_peer"}'] - k_peer
            dc = m2['turnpike_offload_packets_total{direction="to_client"}'] - k_cli
            tp.check(dk == N and dc == N,
                     "the kernel carried all %d each way (%d, %d)" % (N, dk, dc))
        tp.check(m2[up] - m1[up] == N and m2[upb] - m1[upb] == N * SIZE,
                 "to the peer: counted %d pkts %d B = sent" % (m2[up] - m1[up], m2[upb] - m1[upb]))
        # + the Data indication's 15 bytes
        tp.check(m2[dn] - m1[dn] == N + 1 and m2[dnb] - m1[dnb] == N * SIZE + 15,
                 "to the client: counted %d pkts %d B = sent"
                 % (m2[dn] - m1[dn], m2[dnb] - m1[dnb]))

        # 6. Refresh(0): the kernel path stops with the allocation
        r = c.req(tp.REFRESH, [(tp.A_LIFETIME, struct.pack("!I", 0))])
        tp.check(r.cls == tp.SUCCESS, "Refresh(0): %r" % r)
        for i in range(10):
            peer.sendto(b"after the end", relay)
        tp.check(nothing_arrives(c.s, 0.7), "after deletion the peer's datagrams reach nobody")
        m3 = after_tick(srv_ns, home)
        tp.check(m3["turnpike_offload_channels"] == m1["turnpike_offload_channels"],
                 "the allocation's channel left the kernel")
        tp.check(m3['turnpike_offload_packets_total{direction="to_client"}'] ==
                 m2['turnpike_offload_packets_total{direction="to_client"}'] and
                 m3[dn] == m2[dn], "nothing relayed after deletion")
        ended = [l for l in server_log().splitlines()
                 if "allocation ended: deleted" in l and "203.0.113.1:%d" % relay[1] in l]
        want = "client->peer %d pkts %d B, peer->client %d pkts %d B" % (N, N * SIZE, N + 1,
                                                                        N * SIZE + 15)
        tp.check(ended and want in ended[0], "allocation-end log: %s" % (ended[:1] or "none"))

        # 8. mobility (RFC 8016): the move takes the channel out of the kernel
        # (its 5-tuple is the old one); peer data follows the client; the next
        # ChannelBind from the new 5-tuple installs it again
        enter(cli_ns)
        c2 = tp.UdpClient(0, user="alice", pw="alicepw", src=CLIENT_IP)
        c3 = tp.UdpClient(0, user="alice", pw="alicepw", src=CLIENT_IP)
        enter(home)
        c2.dst = c3.dst = LISTEN
        a = c2.req(tp.ALLOCATE, [(tp.A_REQ_TRANSPORT, b"\x11\0\0\0"), (MOBILITY_TICKET, b"")])
        tp.check(a.cls == tp.SUCCESS and a.get(MOBILITY_TICKET), "Allocate with a mobility ticket")
        relay2 = tp.unxor_addr(a.get(tp.A_XOR_RELAYED))
        tp.check(c2.channel_bind(0x4004, PEER_IP, PEER_PORT).cls == tp.SUCCESS, "ChannelBind")
        mm0 = after_tick(srv_ns, home)
        tp.check(mm0["turnpike_offload_channels"] == (1 if on else 0), "channel in the kernel: %d"
                 % mm0["turnpike_offload_channels"])
        r = c3.req(tp.REFRESH, [(MOBILITY_TICKET, a.get(MOBILITY_TICKET))])
        tp.check(r.cls == tp.SUCCESS, "Refresh with the ticket from a new port: %r" % r)
        peer.sendto(b"moved", relay2)
        got = recv_all(c3.s, 1, 2)
        tp.check([g[0] for g in got] == [struct.pack("!HH", 0x4004, 5) + b"moved"],
                 "peer data reaches the client's new port")
        tp.check(nothing_arrives(c2.s, 0.3), "and not the old one")
        mm1 = after_tick(srv_ns, home)
        tp.check(mm1["turnpike_offload_channels"] == 0, "the move took it out of the kernel")
        tp.check(c3.channel_bind(0x4004, PEER_IP, PEER_PORT).cls == tp.SUCCESS,
                 "ChannelBind refresh from the new port")
        peer.sendto(b"again", relay2)
        got = recv_all(c3.s, 1, 2)
        tp.check([g[0] for g in got] == [struct.pack("!HH", 0x4004, 5) + b"again"],
                 "relayed to the new port")
        mm2 = after_tick(srv_ns, home)
        k = 'turnpike_offload_packets_total{direction="to_client"}'
        tp.check(mm2["turnpike_offload_channels"] == (1 if on else 0) and
                 mm2[k] - mm1[k] == (1 if on else 0),
                 "installed again for the new 5-tuple, by the kernel: %d" % (mm2[k] - mm1[k]))
        r = c3.req(tp.REFRESH, [(tp.A_LIFETIME, struct.pack("!I", 0))])
        tp.check(r.cls == tp.SUCCESS, "Refresh(0)")

        # 7. a reload that caps bandwidth: the channel leaves the kernel at
        # once, user space relays it (and no new channel is installed)
        a = c.allocate()
        relay = tp.unxor_addr(a.get(tp.A_XOR_RELAYED))
        tp.check(a.cls == tp.SUCCESS and c.channel_bind(0x4002, PEER_IP, PEER_PORT).cls ==
                 tp.SUCCESS, "a new allocation and channel")
        m4 = after_tick(srv_ns, home)
        tp.check(m4["turnpike_offload_channels"] == (1 if on else 0),
                 "channels in the kernel: %d" % m4["turnpike_offload_channels"])
        with open(conf, "a") as f:
            f.write("max-bps = 1000000;\n")
        srv.send_signal(signal.SIGHUP)
        end = time.time() + 5
        while server_log().count("reload") == 0 and time.time() < end:
            time.sleep(0.05)
        time.sleep(0.2)
        for i in range(5):
            peer.sendto(b"capped %d" % i, relay)
        got = recv_all(c.s, 5, 2)
        tp.check([g[0][4:] for g in got] == [b"capped %d" % i for i in range(5)],
                 "after the reload: relayed (%d/5)" % len(got))
        tp.check(c.channel_bind(0x4003, PEER_IP, OTHER_PORT).cls == tp.SUCCESS, "ChannelBind")
        m5 = after_tick(srv_ns, home)
        tp.check(m5["turnpike_offload_channels"] == 0 and
                 m5["turnpike_offload_installed_total"] == m4["turnpike_offload_installed_total"],
                 "a capped allocation is not in the kernel")
        tp.check(m5['turnpike_offload_packets_total{direction="to_client"}'] ==
                 m4['turnpike_offload_packets_total{direction="to_client"}'] and
                 m5[dn] == m4[dn] + 5, "those 5 were relayed by user space")
        if on:
            tp.check("back to user space: bandwidth cap" in server_log(), "logged why")
        errs = [l for l in server_log().splitlines() if " E " in l or "runtime error" in l]
        tp.check(not errs, "no error in the server log %s" % errs[:3])
    except tp.Fail:
        print("---- server log (tail) ----")
        print("\n".join(server_log().splitlines()[-40:]))
        raise


if __name__ == "__main__":
    binary, mode, srv_ns, cli_ns, peer_ns = sys.argv[1:6]
    try:
        run(binary, mode, srv_ns, cli_ns, peer_ns)
    except tp.Fail as e:
        print("FAIL:", e)
        sys.exit(1)
    print("PASS")
