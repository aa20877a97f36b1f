# SPDX-License-Identifier: BSD-3-Clause
"""tpstream.py - shared helpers for the stream tests (TURN over TCP/TLS/DTLS,
RFC 6062): start turnpike with a generated configuration and a throwaway
certificate, and a small STUN/TURN client over TCP or TLS sockets.

Everything stays on loopback. A test program takes the server binary as
argv[1]; it exits 0 on success, 1 on failure, 77 to be skipped.
"""
import hashlib
import hmac
import os
import random
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import zlib

SKIP = 77
MAGIC = 0x2112A442

# methods
BINDING, ALLOCATE, REFRESH, SEND, DATA, CREATE_PERMISSION, CHANNEL_BIND = 1, 3, 4, 6, 7, 8, 9
CONNECT, CONNECTION_BIND, CONNECTION_ATTEMPT = 0x0A, 0x0B, 0x0C
# classes
REQUEST, INDICATION, SUCCESS, ERROR = 0, 1, 2, 3
# attributes
A_USERNAME, A_MI, A_ERROR_CODE, A_CHANNEL_NUMBER, A_LIFETIME = 0x0006, 0x0008, 0x0009, 0x000C, 0x000D
A_XOR_PEER, A_DATA, A_REALM, A_NONCE, A_XOR_RELAYED = 0x0012, 0x0013, 0x0014, 0x0015, 0x0016
A_REQ_TRANSPORT, A_XOR_MAPPED, A_CONNECTION_ID = 0x0019, 0x0020, 0x002A
A_SOFTWARE, A_FINGERPRINT = 0x8022, 0x8028

USER, PASS, REALM = "alice", "alicepw", "test"


class Fail(Exception):
    pass


def log(*a):
    print(*a, flush=True)


def check(cond, what):
    if not cond:
        raise Fail(what)
    log("ok:", what)


FAILURES = []


def expect(cond, what):
    """Like check, but the test goes on; main() fails at the end."""
    if not cond:
        log("FAILED (continuing):", what)
        FAILURES.append(what)
    else:
        log("ok:", what)


def main(fn):
    """Run fn(binary); map exceptions to exit codes."""
    if len(sys.argv) < 2 or not os.access(sys.argv[1], os.X_OK):
        log("usage: %s TURNPIKE-BINARY [args]" % sys.argv[0])
        sys.exit(2)
    try:
        fn(sys.argv[1], *sys.argv[2:])
    except Fail as e:
        log("FAIL:", e)
        sys.exit(1)
    if FAILURES:
        for f in FAILURES:
            log("FAIL:", f)
        sys.exit(1)
    log("PASS")
    sys.exit(0)


# ---- ports, certificates ----

def free_port():
    """A port free for both TCP and UDP on 127.0.0.1 (racy, but good enough)."""
    for _ in range(100):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            t.close()
            u.close()
        return port
    raise Fail("no free port")


def make_cert(directory, name, cn="turnpike-test"):
    """A self-signed P-256 certificate and key in directory (made at test time)."""
    cert = os.path.join(directory, name + ".crt")
    key = os.path.join(directory, name + ".key")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                        "-subj", "/CN=" + cn, "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        raise Fail("openssl req failed: " + r.stdout.decode(errors="replace"))
    return cert, key


def cert_fingerprint(der):
    return hashlib.sha256(der).hexdigest()


def file_cert_fingerprint(path):
    with open(path) as f:
        return cert_fingerprint(ssl.PEM_cert_to_DER_cert(f.read()))


# ---- the server ----

SAN_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error:", "UndefinedBehaviorSanitizer")


class Server:
    """turnpike on 127.0.0.1 with listeners given as {"name": "proto"} (or
    "proto flags", e.g. "tls proxy-protocol"); after
    start(), ports[name] is the port of each (a tcp and a udp listener may
    share a port by giving the same name twice via share=)."""

    def __init__(self, binary, listeners, options=None, tls=False, share=None):
        self.binary = binary
        self.dir = tempfile.mkdtemp(prefix="tp-stream-")
        self.ports = {}
        specs = []
        for name, proto in listeners.items():
            port = self.ports.get(share.get(name)) if share and name in share else None
            port = port or free_port()
            self.ports[name] = port
            # "tcp proxy-protocol": flags after the protocol follow the address
            proto, _, flags = proto.partition(" ")
            specs.append('"%s:127.0.0.1:%d%s"' % (proto, port, " " + flags if flags else ""))
        base = random.randrange(10000, 19000, 100)
        self.min_port = base
        opts = {
            "listen": "[ %s ]" % ", ".join(specs),
            "relay-ip": '[ "127.0.0.1" ]',
            "min-port": str(base),
            "max-port": str(base + 99),
            "realm": '"%s"' % REALM,
            "log-level": '"debug"',
            "users": '( { name = "%s"; password = "%s"; }, { name = "bob"; password = "bobpw"; } )'
                     % (USER, PASS),
            "demo-user": "false",
            "unauth-rate": "0",
            "allowed-peer": '[ "127.0.0.0/8" ]',
            "default-lifetime": "60",
            "max-lifetime": "60",
            "admin": '""',
        }
        if tls:
            self.cert, self.key = make_cert(self.dir, "server")
            opts["tls-cert"] = '"%s"' % self.cert
            opts["tls-key"] = '"%s"' % self.key
        opts.update(options or {})
        self.conf_path = os.path.join(self.dir, "turnpike.conf")
        self.log_path = os.path.join(self.dir, "turnpike.log")
        with open(self.conf_path, "w") as f:
            for k, v in opts.items():
                f.write("%s = %s;\n" % (k, v))
        self.proc = None

    def start(self, args=(), env_add=None):
        """args: more command-line arguments; env_add: more environment."""
        env = dict(os.environ)
        # a small quarantine keeps ASan's RSS meaningful for the memory tests
        env.setdefault("ASAN_OPTIONS", "quarantine_size_mb=8:detect_leaks=1:abort_on_error=0")
        env.update(env_add or {})
        self.logf = open(self.log_path, "w")
        self.proc = subprocess.Popen([self.binary, "-c", self.conf_path] + list(args),
                                     stdout=self.logf, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self.dump_log()
                raise Fail("server exited at start with status %d" % self.proc.returncode)
            if "listening on" in self.read_log():
                log("server pid %d up: %s" % (self.proc.pid, self.ports))
                return self
            time.sleep(0.05)
        self.dump_log()
        raise Fail("server did not start within 15 s")

    def read_log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def dump_log(self, tail=200):
        lines = self.read_log().splitlines()
        log("---- server log (last %d lines) ----" % tail)
        for line in lines[-tail:]:
            log(line)
        log("---- end of server log ----")

    def alive(self):
        return self.proc.poll() is None

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise Fail("no VmRSS")

    def nfds(self):
        return len(os.listdir("/proc/%d/fd" % self.proc.pid))

    def sighup(self, marker, timeout=5):
        n = self.read_log().count(marker)
        self.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.read_log().count(marker) > n:
                return
            time.sleep(0.05)
        self.dump_log(50)
        raise Fail("no '%s' in the log after SIGHUP" % marker)

    def stop(self):
        """SIGTERM; the exit status must be 0 and the log free of sanitizer reports."""
        if self.proc is None:
            return
        ok = True
        if self.proc.poll() is not None:
            log("server had exited with status %d" % self.proc.returncode)
            ok = False
        else:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                log("server did not stop within 15 s of SIGTERM")
                ok = False
            if self.proc.returncode != 0:
                log("server exit status %d" % self.proc.returncode)
                ok = False
        text = self.read_log()
        if any(m in text for m in SAN_MARKERS):
            log("sanitizer report in the server log")
            ok = False
        self.logf.close()
        if not ok:
            self.dump_log()
        elif os.environ.get("TP_STREAM_KEEP"):
            log("kept", self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        self.proc = None
        if not ok:
            raise Fail("server did not stop cleanly")

    def __enter__(self):
        return self.start()

    def __exit__(self, et, ev, tb):
        if et is not None and self.proc is not None:
            self.dump_log(80)
            log("server files kept in", self.dir)
            try:
                self.proc.kill()
                self.proc.wait()
            except OSError:
                pass
            self.proc = None
            return False
        self.stop()
        return False


# ---- STUN encoding ----

def msg_type(method, cls):
    return ((method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2) |
            ((cls & 1) << 4) | ((cls & 2) << 7))


def split_type(t):
    method = (t & 0x000F) | ((t & 0x00E0) >> 1) | ((t & 0x3E00) >> 2)
    cls = ((t >> 4) & 1) | ((t >> 7) & 2)
    return method, cls


def pad4(b):
    return b + b"\0" * ((4 - len(b) % 4) % 4)


def attr(t, v):
    return struct.pack("!HH", t, len(v)) + pad4(v)


def xor_addr(host, port, tid):
    ip = socket.inet_aton(host)
    x = bytes(a ^ b for a, b in zip(ip, struct.pack("!I", MAGIC)))
    return struct.pack("!BBH", 0, 1, port ^ (MAGIC >> 16)) + x


def unxor_addr(v):
    fam, xport = struct.unpack("!xBH", v[:4])
    if fam != 1:
        raise Fail("IPv6 address attribute not expected here")
    ip = bytes(a ^ b for a, b in zip(v[4:8], struct.pack("!I", MAGIC)))
    return socket.inet_ntoa(ip), xport ^ (MAGIC >> 16)


def lt_key(user=USER, realm=REALM, pw=PASS):
    return hashlib.md5(("%s:%s:%s" % (user, realm, pw)).encode()).digest()


def encode(method, cls, attrs, tid=None, key=None, fingerprint=True):
    tid = tid or os.urandom(12)
    body = b"".join(attr(t, v) for t, v in attrs)
    if key is not None:
        hdr = struct.pack("!HHI", msg_type(method, cls), len(body) + 24, MAGIC) + tid
        mac = hmac.new(key, hdr + body, hashlib.sha1).digest()
        body += attr(A_MI, mac)
    if fingerprint:
        hdr = struct.pack("!HHI", msg_type(method, cls), len(body) + 8, MAGIC) + tid
        crc = (zlib.crc32(hdr + body) & 0xFFFFFFFF) ^ 0x5354554E
        body += attr(A_FINGERPRINT, struct.pack("!I", crc))
    return struct.pack("!HHI", msg_type(method, cls), len(body), MAGIC) + tid + body


class Msg:
    def __init__(self, raw):
        t, n, cookie = struct.unpack("!HHI", raw[:8])
        self.raw = raw
        self.method, self.cls = split_type(t)
        self.tid = raw[8:20]
        self.attrs = []
        p = 20
        while p + 4 <= 20 + n:
            at, al = struct.unpack("!HH", raw[p:p + 4])
            self.attrs.append((at, raw[p + 4:p + 4 + al]))
            p += 4 + al + ((4 - al % 4) % 4)

    def get(self, t):
        for at, v in self.attrs:
            if at == t:
                return v
        return None

    def code(self):
        v = self.get(A_ERROR_CODE)
        if self.cls == SUCCESS:
            return 0
        if v is None:
            return -1
        return (v[2] & 7) * 100 + v[3]

    def reason(self):
        v = self.get(A_ERROR_CODE)
        return v[4:].decode(errors="replace") if v else ""

    def __repr__(self):
        return "<msg method=%#x class=%d code=%d %s>" % (self.method, self.cls, self.code(),
                                                         self.reason())


# ---- stream connections ----

def tls_client_ctx(alpn=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if alpn:
        ctx.set_alpn_protocols(alpn)
    return ctx


def client_hello():
    """The bytes of a real TLS ClientHello (made by Python's TLS stack)."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = tls_client_ctx().wrap_bio(inc, out)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def connect(port, tls=False, alpn=None, src="127.0.0.1", timeout=5, rcvbuf=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((src, 0))
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    if tls:
        s = tls_client_ctx(alpn).wrap_socket(s)
    return s


def recv_exact(sock, n):
    b = b""
    while len(b) < n:
        c = sock.recv(n - len(b))
        if not c:
            raise EOFError("connection closed after %d of %d bytes" % (len(b), n))
        b += c
    return b


def read_frame(sock):
    """One STUN message or ChannelData frame from a stream; returns (kind, bytes)."""
    h = recv_exact(sock, 4)
    if h[0] < 0x40:
        n = struct.unpack("!H", h[2:4])[0]
        return "stun", h + recv_exact(sock, 16 + n)
    if 0x40 <= h[0] <= 0x4F:
        n = struct.unpack("!H", h[2:4])[0]
        return "chan", h + recv_exact(sock, n + ((4 - n % 4) % 4))
    raise Fail("bad frame from the server: first byte %#x" % h[0])


def closed_by_peer(sock, within):
    """Wait up to 'within' s for the other side to close; return the seconds it
    took, or None if still open. Data received meanwhile is discarded."""
    t0 = time.time()
    sock.settimeout(0.2)
    while time.time() - t0 < within:
        try:
            b = sock.recv(65536)
            if not b:
                return time.time() - t0
        except socket.timeout:
            continue
        except ssl.SSLError:
            return time.time() - t0
        except (ConnectionResetError, BrokenPipeError):
            return time.time() - t0
    return None


class Client:
    """A TURN client on a stream socket (TCP or TLS) with long-term credentials."""

    def __init__(self, sock, user=USER, pw=PASS):
        self.sock = sock
        self.user, self.pw = user, pw
        self.realm = None
        self.nonce = None
        self.pending = []       # indications / ChannelData received meanwhile

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def transact(self, method, attrs, auth=True, timeout=5, tid=None):
        tid = tid or os.urandom(12)
        a = list(attrs)
        key = None
        if auth and self.nonce:
            a = [(A_USERNAME, self.user.encode()), (A_REALM, self.realm),
                 (A_NONCE, self.nonce)] + a
            key = lt_key(self.user, self.realm.decode(), self.pw)
        self.sock.sendall(encode(method, REQUEST, a, tid, key))
        self.sock.settimeout(timeout)
        while True:
            kind, raw = read_frame(self.sock)
            if kind == "stun":
                m = Msg(raw)
                if m.tid == tid:
                    return m
            self.pending.append((kind, raw))

    def request(self, method, attrs=(), auth=True, timeout=5, tid=None):
        """tid: a fixed transaction ID (e.g. for IPv6 XOR addresses, which
        depend on it); a retry after a challenge reuses it."""
        m = self.transact(method, attrs, auth and self.nonce is not None, timeout, tid)
        for _ in range(2):
            if auth and m.cls == ERROR and m.code() in (401, 438):
                self.realm = m.get(A_REALM) or self.realm
                self.nonce = m.get(A_NONCE)
                m = self.transact(method, attrs, True, timeout, tid)
        return m

    def binding(self):
        m = self.request(BINDING, auth=False)
        check(m.cls == SUCCESS and m.get(A_XOR_MAPPED), "Binding answered")
        return m

    def allocate(self, transport=17, lifetime=None):
        attrs = [(A_REQ_TRANSPORT, bytes([transport, 0, 0, 0]))]
        if lifetime is not None:
            attrs.append((A_LIFETIME, struct.pack("!I", lifetime)))
        m = self.request(ALLOCATE, attrs)
        if m.cls != SUCCESS:
            raise Fail("Allocate failed: %r" % m)
        return unxor_addr(m.get(A_XOR_RELAYED))

    def permit(self, host, port=0):
        m = self.request(CREATE_PERMISSION, [(A_XOR_PEER, xor_addr(host, port, None))])
        if m.cls != SUCCESS:
            raise Fail("CreatePermission failed: %r" % m)

    def connect_peer(self, host, port):
        m = self.request(CONNECT, [(A_XOR_PEER, xor_addr(host, port, None))], timeout=10)
        if m.cls != SUCCESS:
            raise Fail("Connect failed: %r" % m)
        return struct.unpack("!I", m.get(A_CONNECTION_ID))[0]

    def connection_bind(self, cid):
        return self.request(CONNECTION_BIND, [(A_CONNECTION_ID, struct.pack("!I", cid))])


class UdpClient:
    """A UDP TURN client (the harness is C; this one is enough here)."""

    def __init__(self, port, user=USER, pw=PASS, src="127.0.0.1"):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind((src, 0))
        self.s.settimeout(2)
        self.dst = ("127.0.0.1", port)
        self.user, self.pw = user, pw
        self.realm = self.nonce = None

    def req(self, method, attrs=()):
        attrs = list(attrs)
        for _ in range(3):
            tid = os.urandom(12)
            key = None
            a = attrs
            if self.nonce:
                a = [(A_USERNAME, self.user.encode()), (A_REALM, self.realm),
                     (A_NONCE, self.nonce)] + attrs
                key = lt_key(self.user, self.realm.decode(), self.pw)
            self.s.sendto(encode(method, REQUEST, a, tid, key), self.dst)
            while True:
                m = Msg(self.s.recv(4096))
                if m.tid == tid:
                    break
            if m.cls == ERROR and m.code() in (401, 438):
                self.realm, self.nonce = m.get(A_REALM), m.get(A_NONCE)
                continue
            return m
        return m

    def allocate(self):
        m = self.req(ALLOCATE, [(A_REQ_TRANSPORT, b"\x11\0\0\0")])
        return m

    def permit(self, host, port):
        return self.req(CREATE_PERMISSION, [(A_XOR_PEER, xor_addr(host, port, None))])

    def channel_bind(self, num, host, port):
        return self.req(CHANNEL_BIND, [(A_CHANNEL_NUMBER, struct.pack("!HH", num, 0)),
                                       (A_XOR_PEER, xor_addr(host, port, None))])

    def chandata(self, num, data):
        self.s.sendto(struct.pack("!HH", num, len(data)) + data, self.dst)

    def send(self, host, port, data):
        self.s.sendto(encode(SEND, INDICATION,
                                [(A_XOR_PEER, xor_addr(host, port, None)),
                                 (A_DATA, data)], fingerprint=False), self.dst)


def peer_listener():
    """A TCP peer on loopback waiting for the relay's connection (RFC 6062 Connect)."""
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    ls.settimeout(5)
    return ls


def connect_pipe(port, src="127.0.0.1", rcvbuf=None):
    """An RFC 6062 set-up: a TCP allocation on a control connection, Connect to
    a fresh peer, ConnectionBind on a data connection. Returns (control client,
    peer listener, peer socket, data client); the data connection is a raw pipe
    to the peer from here on."""
    ctl = Client(connect(port, src=src))
    ctl.allocate(transport=6)
    ls = peer_listener()
    cid = ctl.connect_peer(*ls.getsockname())
    ps, _ = ls.accept()
    d = Client(connect(port, src=src, rcvbuf=rcvbuf))
    m = d.connection_bind(cid)
    if m.cls != SUCCESS:
        raise Fail("ConnectionBind failed: %r" % m)
    return ctl, ls, ps, d


# ---- raw DTLS ClientHellos (the cookie exchange, RFC 6347 §4.2.1) ----

def dtls_record(body, seq):
    return (struct.pack("!BHH", 22, 0xFEFD, 0) + seq.to_bytes(6, "big") +
            struct.pack("!H", len(body)) + body)


def dtls_client_hello(cookie=b"", msg_seq=0, rnd=None):
    """A DTLS 1.2 ClientHello that OpenSSL accepts with a P-256 certificate."""
    exts = b"".join(struct.pack("!HH", t, len(v)) + v for t, v in [
        (0x000A, struct.pack("!HH", 2, 0x0017)),               # supported_groups: P-256
        (0x000B, b"\x01\x00"),                                 # ec_point_formats
        (0x000D, struct.pack("!HHH", 4, 0x0403, 0x0804)),      # signature_algorithms
        (0x0017, b""),                                         # extended_master_secret
        (0xFF01, b"\x00"),                                     # renegotiation_info
    ])
    suites = struct.pack("!HHHHH", 8, 0xC02B, 0xC02F, 0xC02C, 0xC030)
    body = (b"\xfe\xfd" + (rnd or os.urandom(32)) + b"\x00" + bytes([len(cookie)]) + cookie +
            suites + b"\x01\x00" + struct.pack("!H", len(exts)) + exts)
    hs = (b"\x01" + len(body).to_bytes(3, "big") + struct.pack("!H", msg_seq) +
          (0).to_bytes(3, "big") + len(body).to_bytes(3, "big") + body)
    return dtls_record(hs, msg_seq)


def dtls_handshake_type(dgram):
    """The type of the first handshake message in a datagram (None if none)."""
    if len(dgram) < 13 + 12 or dgram[0] != 22:
        return None
    return dgram[13]


def dtls_hvr_cookie(dgram):
    """The cookie of a HelloVerifyRequest."""
    body = dgram[13 + 12:]
    n = body[2]
    return body[3:3 + n]
