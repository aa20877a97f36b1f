#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""aiortc_peer.py - aiortc (Debian python3-aiortc) as the other peer of dc-client.

    aiortc_peer.py offer|answer SIGNAL_URL TURN_HOST:PORT USER PASS

Joins the signaling room (a minimal RFC 6455 client below: Debian's aiortc
brings no WebSocket library), uses turnpike as TURN server, and on the data
channel answers "ping N" with "pong N", sends 5 pings of its own, counts and
acknowledges bulk bytes, and says "done" when its pings are back. Host
candidates are limited to 127.0.0.1 so that nothing leaves loopback.
Prints one JSON line; exit 0 when messages went both ways.
"""
import asyncio
import base64
import json
import os
import struct
import sys
from urllib.parse import urlparse

import aioice.ice
from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp

aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]


class WS:
    """Just enough of a WebSocket client: text frames, ping/pong, close."""

    async def connect(self, url):
        u = urlparse(url)
        self.r, self.w = await asyncio.open_connection(u.hostname, u.port or 80)
        key = base64.b64encode(os.urandom(16)).decode()
        path = u.path + ("?" + u.query if u.query else "")
        self.w.write((f"GET {path} HTTP/1.1\r\nHost: {u.hostname}\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                      f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
        head = await self.r.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101"):
            raise RuntimeError("upgrade refused: " + head.split(b"\r\n")[0].decode())

    def _frame(self, op, data):
        mask = os.urandom(4)
        n = len(data)
        if n < 126:
            h = struct.pack("!BB", 0x80 | op, 0x80 | n)
        elif n < 65536:
            h = struct.pack("!BBH", 0x80 | op, 0x80 | 126, n)
        else:
            h = struct.pack("!BBQ", 0x80 | op, 0x80 | 127, n)
        self.w.write(h + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def send(self, obj):
        self._frame(1, json.dumps(obj).encode())

    async def recv(self):
        msg = b""
        while True:
            b0, b1 = await self.r.readexactly(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", await self.r.readexactly(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", await self.r.readexactly(8))[0]
            data = await self.r.readexactly(n)
            op = b0 & 0x0F
            if op == 9:
                self._frame(10, data)
            elif op == 8:
                return None
            elif op in (0, 1, 2):
                msg += data
                if b0 & 0x80:
                    return json.loads(msg)


async def main():
    role, url, turn, user, pw = sys.argv[1:6]
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[
        RTCIceServer(urls=f"turn:{turn}?transport=udp", username=user, credential=pw)]))
    ws = WS()
    await ws.connect(url)
    st = {"open": False, "pings_sent": 0, "pongs": 0, "pings_answered": 0, "bulk_bytes": 0,
          "peer_done": False, "my_done": False}
    finished = asyncio.get_running_loop().create_future()
    bulk = {"expect": 0}

    def check():
        if st["my_done"] and st["peer_done"] and not finished.done():
            finished.set_result("ok")

    def use(dc):
        async def pinger():
            for i in range(5):
                dc.send(f"ping {i}")
                st["pings_sent"] += 1
                await asyncio.sleep(0.05)

        def opened():
            st["open"] = True
            print(f"aiortc: channel {dc.label!r} open", file=sys.stderr)
            asyncio.ensure_future(pinger())

        @dc.on("message")
        def on_message(m):
            if isinstance(m, bytes):
                st["bulk_bytes"] += len(m)
                if bulk["expect"] and st["bulk_bytes"] >= bulk["expect"]:
                    dc.send(f"bulk-ok {st['bulk_bytes']}")
                    bulk["expect"] = 0
                return
            if m.startswith("ping "):
                dc.send("pong " + m[5:])
                st["pings_answered"] += 1
            elif m.startswith("pong "):
                st["pongs"] += 1
                if st["pongs"] == 5:
                    st["my_done"] = True
                    dc.send("done")
                    check()
            elif m.startswith("bulk "):
                bulk["expect"] = int(m[5:])
                st["bulk_bytes"] = 0
            elif m == "done":
                st["peer_done"] = True
                check()

        if dc.readyState == "open":
            opened()
        else:
            dc.on("open", opened)

    pc.on("datachannel", use)

    async def send_local(kind):
        ws.send({"type": kind, "sdp": pc.localDescription.sdp})

    if role == "offer":
        use(pc.createDataChannel("aiortc"))
        await pc.setLocalDescription(await pc.createOffer())
        await send_local("offer")

    async def signaling():
        while True:
            m = await ws.recv()
            if m is None:
                return
            if m["type"] in ("offer", "answer"):
                await pc.setRemoteDescription(RTCSessionDescription(m["sdp"], m["type"]))
                print(f"aiortc: got {m['type']}", file=sys.stderr)
                if m["type"] == "offer":
                    await pc.setLocalDescription(await pc.createAnswer())
                    await send_local("answer")
            elif m["type"] == "candidate":
                ice = pc.sctp.transport.transport if pc.sctp else None
                if not m.get("candidate"):
                    if ice:
                        await ice.addRemoteCandidate(None)
                    continue
                c = candidate_from_sdp(m["candidate"].split(":", 1)[1])
                c.sdpMid = m.get("sdpMid", "0")
                c.sdpMLineIndex = m.get("sdpMLineIndex", 0)
                await pc.addIceCandidate(c)

    sig = asyncio.ensure_future(signaling())
    try:
        outcome = await asyncio.wait_for(finished, 40)
    except asyncio.TimeoutError:
        outcome = "timeout"
    await asyncio.sleep(0.3)
    sig.cancel()
    await pc.close()
    print(json.dumps({"outcome": outcome, **st}))
    ok = outcome == "ok" and st["open"] and st["pongs"] == 5 and st["pings_answered"] > 0
    sys.exit(0 if ok else 1)


asyncio.run(main())
