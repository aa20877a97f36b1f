#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Regenerate the fuzz seed corpora in tests/fuzz/corpus/ from the committed
vectors (tests/vectors/*.hex, tests/vectors/captured/*.hex) plus a few crafted
messages. Run from anywhere; it rewrites corpus/stun, corpus/chandata and
corpus/proxy (PROXY protocol headers, HAProxy's proxy-protocol.txt)."""
import glob, hashlib, hmac, os, struct, zlib

here = os.path.dirname(os.path.abspath(__file__))
vec = os.path.join(here, "..", "vectors")
MAGIC = 0x2112A442

def load_hex(path):
    digits = "".join(l.split("#", 1)[0] for l in open(path))
    return bytes.fromhex("".join(digits.split()))

def attr(t, v):
    return struct.pack("!HH", t, len(v)) + v + b"\0" * (-len(v) % 4)

def msg(mtype, attrs, tid=b"0123456789ab", mi_key=None, mi256_key=None, fp=False):
    body = b"".join(attr(t, v) for t, v in attrs)
    def hdr(extra):
        return struct.pack("!HHI", mtype, len(body) + extra, MAGIC) + tid
    if mi_key:
        mac = hmac.new(mi_key, hdr(24) + body, hashlib.sha1).digest()
        body += attr(0x0008, mac)
    if mi256_key:
        mac = hmac.new(mi256_key, hdr(36) + body, hashlib.sha256).digest()
        body += attr(0x001C, mac)
    if fp:
        crc = zlib.crc32(hdr(8) + body) ^ 0x5354554E
        body += attr(0x8028, struct.pack("!I", crc))
    return hdr(0) + body

def xaddr(port, ip4):
    return struct.pack("!BBH", 0, 1, port ^ (MAGIC >> 16)) + bytes(a ^ b for a, b in zip(ip4, struct.pack("!I", MAGIC)))

key = hashlib.md5(b"test:example.org:secret").digest()
stun, chan = {}, {}

for p in sorted(glob.glob(os.path.join(vec, "*.hex")) + glob.glob(os.path.join(vec, "captured", "*.hex"))):
    b = load_hex(p)
    name = os.path.basename(p)[:-4]
    if b[0] & 0xC0 == 0x40:
        chan[name] = b
    else:
        stun[name] = b

ip = bytes([192, 0, 2, 1])
stun["crafted-allocate-full"] = msg(0x0003, [
    (0x0019, b"\x11\0\0\0"), (0x000D, struct.pack("!I", 600)), (0x0018, b"\x80"),
    (0x0017, b"\x01\0\0\0"), (0x001A, b""), (0x0006, b"test"), (0x0014, b"example.org"),
    (0x0015, b"nonce-123"), (0x8022, b"fuzz seed")], mi_key=key, fp=True)
stun["crafted-allocate-mi256"] = msg(0x0003, [
    (0x0019, b"\x11\0\0\0"), (0x001E, bytes(32)), (0x0014, b"example.org"),
    (0x0015, b"obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA"),
    (0x001D, b"\0\x02\0\0")], mi256_key=hashlib.sha256(b"x").digest(), fp=True)
stun["crafted-error-401-pwalgs"] = msg(0x0113, [
    (0x0009, b"\0\0\x04\x01Unauthorized"), (0x0014, b"example.org"), (0x0015, b"n"),
    (0x8002, b"\0\x02\0\0\0\x01\0\0")], fp=True)
stun["crafted-error-420-unknown"] = msg(0x0113, [
    (0x0009, b"\0\0\x04\x14Unknown Attribute"), (0x000A, b"\0\x2f\x00\x31")])
stun["crafted-error-440-addr"] = msg(0x0113, [
    (0x8001, b"\x02\0\x04\x28Address Family not Supported"), (0x0009, b"\0\0\x04\x28x")])
stun["crafted-channelbind"] = msg(0x0009, [
    (0x000C, b"\x40\x01\0\0"), (0x0012, xaddr(3480, ip))], mi_key=key)
stun["crafted-data-indication-icmp"] = msg(0x0017, [
    (0x0012, xaddr(3480, ip)), (0x8004, b"\0\0\x03\x03\0\0\0\0"), (0x0013, b"payload")])
stun["crafted-binding-5780"] = msg(0x0001, [
    (0x0003, b"\0\0\0\x06"), (0x0027, b"\x0d\x96\0\0"), (0x0026, bytes(13))], fp=True)
stun["crafted-binding-response-5780"] = msg(0x0101, [
    (0x0020, xaddr(5000, ip)), (0x802B, b"\0\x01\x0d\x96" + ip), (0x802C, b"\0\x01\x0d\x97" + ip),
    (0x8023, b"\0\x02\x0d\x96" + bytes(15) + b"\1")])
stun["crafted-ice-binding"] = msg(0x0001, [
    (0x0006, b"a:b"), (0x0024, b"\x6e\0\x01\xff"), (0x802A, bytes(8)), (0x0025, b"")],
    mi_key=b"pass", fp=True)
stun["crafted-refresh-mobility"] = msg(0x0004, [(0x8030, bytes(20)), (0x000D, bytes(4))])
stun["crafted-connect"] = msg(0x000A, [(0x0012, xaddr(80, ip))])
stun["crafted-connectionbind"] = msg(0x000B, [(0x002A, b"\0\0\0\x07")])
stun["crafted-after-mi-ignored"] = msg(0x0001, [(0x0006, b"u")], mi_key=key) + b""
stun["crafted-classic-binding"] = struct.pack("!HH", 1, 8) + bytes(range(16)) + attr(0x0003, bytes(4))

# ChannelData seeds: 2 split-control bytes, then the datagram / stream.
ctl = [b"\0\0", b"\x03\x05", b"\x10\x01", b"\xff\x7f"]
i = 0
for name, b in list(chan.items()):
    chan[name] = ctl[i % len(ctl)] + b
    i += 1
cd = lambda c, d, pad=True: struct.pack("!HH", c, len(d)) + d + (b"\0" * (-len(d) % 4) if pad else b"")
chan["crafted-empty"] = b"\x01\x02" + cd(0x4000, b"")
chan["crafted-unpadded"] = b"\x02\x03" + cd(0x4FFF, b"abcde", pad=False)
chan["crafted-rfc5766-range"] = b"\x02\x03" + cd(0x7FFE, b"abcd")
stream = (cd(0x4001, b"hello") + stun["crafted-channelbind"] + cd(0x4002, bytes(100)) +
          stun["crafted-allocate-full"] + cd(0x4003, b"x"))
chan["crafted-stream-mixed"] = b"\x07\x0b" + stream
chan["crafted-stream-partial"] = b"\x01\x01" + stream[:-3]
chan["crafted-stream-too-long"] = b"\x05\x05" + cd(0x4001, b"a") + struct.pack("!HH", 0x4001, 2000) + bytes(40)
chan["crafted-stream-bad-byte"] = b"\x05\x05" + cd(0x4001, b"a") + b"\x80\0\0\0"
chan["crafted-stream-bad-stun-len"] = b"\x05\x05" + struct.pack("!HHI", 1, 3, MAGIC) + bytes(15)

# PROXY protocol headers: byte 0 picks the prefix the fuzzer also parses
proxy = {}
V2SIG = b"\r\n\r\n\0\r\nQUIT\n"
v2 = lambda vc, fam, body: V2SIG + struct.pack("!BBH", vc, fam, len(body)) + body
a4 = bytes([192, 0, 2, 7, 198, 51, 100, 1]) + struct.pack("!HH", 50000, 443)
a6 = bytes.fromhex("20010db8" + "00" * 11 + "01" + "20010db8" + "00" * 11 + "02") + struct.pack("!HH", 4660, 3478)
proxy["v1-tcp4"] = b"\x05PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"
proxy["v1-tcp4-max"] = b"\x20PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n"
proxy["v1-tcp6"] = b"\x30PROXY TCP6 2001:db8::1 ::ffff:192.0.2.1 0 3478\r\n" + stun["crafted-allocate-full"]
proxy["v1-unknown"] = b"\x03PROXY UNKNOWN\r\n"
proxy["v1-unknown-max"] = b"\x40PROXY UNKNOWN " + b"ffff:" * 7 + b"ffff " + b"ffff:" * 7 + b"ffff 65535 65535\r\n"
proxy["v2-tcp4-tls"] = b"\x10" + v2(0x21, 0x11, a4) + b"\x16\x03\x01\x00\xf4"
proxy["v2-tcp6"] = b"\x11" + v2(0x21, 0x21, a6)
proxy["v2-local"] = b"\x07" + v2(0x20, 0x00, b"")
proxy["v2-unspec"] = b"\x07" + v2(0x21, 0x00, b"")
proxy["v2-tlvs"] = b"\x21" + v2(0x21, 0x11, a4 + b"\x01\x00\x02h2\x04\x00\x03\0\0\0\xe0\x00\x01x")
proxy["v2-unix"] = b"\x01" + v2(0x21, 0x31, bytes(216))
proxy["v2-too-long"] = b"\x01" + v2(0x21, 0x11, a4 + b"\x04" + struct.pack("!H", 600) + bytes(600))

for sub, seeds in (("stun", stun), ("chandata", chan), ("proxy", proxy)):
    d = os.path.join(here, "corpus", sub)
    os.makedirs(d, exist_ok=True)
    for f in glob.glob(os.path.join(d, "*")):
        os.remove(f)
    for name, b in seeds.items():
        open(os.path.join(d, name), "wb").write(b)
    print("%s: %d seeds" % (sub, len(seeds)))
