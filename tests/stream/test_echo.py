#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Every packet accounted for over a stream: a TURN client over TCP or TLS
relays messages of every length 1..N (so ChannelData needs 0-3 bytes of
padding on the stream, RFC 8656 §12.5) to a UDP echo peer, first as Send
indications, then on a channel, several clients at once; each message must
come back intact, none lost.

    test_echo.py TURNPIKE tcp|tls
"""
import socket
import struct
import threading

import tpstream as tp

NMSG = 300
NCLIENTS = 4
WINDOW = 16


def echo_peer(sock, stop):
    sock.settimeout(0.2)
    while not stop.is_set():
        try:
            b, a = sock.recvfrom(65536)
        except socket.timeout:
            continue
        sock.sendto(b, a)


def payload(k, i):
    body = struct.pack("!HH", k, i)
    n = 1 + (i * 37) % 400
    return (body * (n // 4 + 1))[:max(n, 4)]


def run_client(port, tls, peer, k, results):
    try:
        c = tp.Client(tp.connect(port, tls=tls))
        c.allocate()
        c.permit(*peer)
        chan = 0x4000 + k
        m = c.request(tp.CHANNEL_BIND, [(tp.A_CHANNEL_NUMBER, struct.pack("!HH", chan, 0)),
                                        (tp.A_XOR_PEER, tp.xor_addr(*peer, None))])
        if m.cls != tp.SUCCESS:
            raise tp.Fail("ChannelBind: %r" % m)
        lost = 0
        for use_chan in (False, True):
            sent, got = [], []
            pending = list(c.pending)
            c.pending.clear()
            c.sock.settimeout(3)
            try:
                while len(got) < NMSG:
                    # at most WINDOW messages in flight: UDP socket buffers on
                    # the way (peer, relay) must not be what drops packets
                    while len(sent) < NMSG and len(sent) - len(got) < WINDOW:
                        p = payload(k, len(sent))
                        sent.append(p)
                        if use_chan:
                            c.sock.sendall(struct.pack("!HH", chan, len(p)) + tp.pad4(p))
                        else:
                            c.sock.sendall(tp.encode(
                                tp.SEND, tp.INDICATION,
                                [(tp.A_XOR_PEER, tp.xor_addr(*peer, None)), (tp.A_DATA, p)],
                                fingerprint=False))
                    kind, raw = pending.pop(0) if pending else tp.read_frame(c.sock)
                    if kind == "chan":
                        n = struct.unpack("!H", raw[2:4])[0]
                        got.append(raw[4:4 + n])
                    else:
                        m = tp.Msg(raw)
                        if m.method == tp.DATA:
                            got.append(m.get(tp.A_DATA))
            except socket.timeout:
                pass
            # UDP on loopback may in principle drop; the stream must not
            missing = [i for i in range(NMSG) if sent[i] not in got]
            bad = [g for g in got if g not in sent]
            if bad:
                raise tp.Fail("client %d: %d corrupted messages" % (k, len(bad)))
            lost += len(missing)
            results.append((k, use_chan, len(got), missing[:5]))
        c.close()
    except Exception as e:  # reported by the main thread
        results.append((k, None, repr(e), None))


def test(binary, mode):
    tls = mode == "tls"
    with tp.Server(binary, {"p": mode}, tls=tls) as srv:
        peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        peer.bind(("127.0.0.1", 0))
        stop = threading.Event()
        pt = threading.Thread(target=echo_peer, args=(peer, stop), daemon=True)
        pt.start()
        results = []
        ts = [threading.Thread(target=run_client,
                               args=(srv.ports["p"], tls, peer.getsockname(), k, results))
              for k in range(NCLIENTS)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
        stop.set()
        for k, use_chan, got, missing in sorted(results, key=lambda r: (r[0], str(r[1]))):
            if use_chan is None:
                tp.expect(False, "client %d: %s" % (k, got))
                continue
            tp.expect(got == NMSG, "%s client %d, %s: %d of %d messages came back%s" %
                      (mode, k, "ChannelData" if use_chan else "Send/Data indications",
                       got, NMSG, "" if got == NMSG else " (missing e.g. %s)" % missing))
        tp.check(len(results) == 2 * NCLIENTS or tp.FAILURES, "every client finished")


if __name__ == "__main__":
    tp.main(test)
