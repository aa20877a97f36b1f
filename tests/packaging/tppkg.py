# SPDX-License-Identifier: BSD-3-Clause
"""tppkg.py - shared helpers for the packaging tests: pass/fail lines, a free
loopback port, a STUN Binding over UDP that checks the answer, and the server
started on a configuration until it logs "listening on".

Everything stays on 127.0.0.1. A test program exits 0 on success, 1 on
failure, 77 when a tool it needs is absent (it says which).
"""
import os
import socket
import struct
import subprocess
import sys
import time

SKIP = 77
MAGIC = 0x2112A442
FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILS.append(what)
    return cond


def finish():
    print("%d failed" % len(FAILS))
    return 1 if FAILS else 0


def skip(why):
    print("SKIP: " + why)
    sys.exit(SKIP)


def free_port():
    """A port free for both UDP and TCP on 127.0.0.1 (racy, but good enough)."""
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
    raise RuntimeError("no free port")


def binding(port, timeout=3.0):
    """A Binding request to 127.0.0.1:port over UDP. Returns (addr, port) from
    the success response's XOR-MAPPED-ADDRESS when it is the client socket's own
    address, else None (no answer, a malformed one, or a wrong address)."""
    tid = os.urandom(12)
    req = struct.pack("!HHI12s", 0x0001, 0, MAGIC, tid)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(0.25)
    end = time.time() + timeout
    try:
        while time.time() < end:
            s.sendto(req, ("127.0.0.1", port))
            try:
                raw, _ = s.recvfrom(2048)
            except socket.timeout:
                continue
            if len(raw) < 20:
                continue
            t, n, magic, rtid = struct.unpack("!HHI12s", raw[:20])
            if t != 0x0101 or magic != MAGIC or rtid != tid or 20 + n != len(raw):
                continue
            p = 20
            while p + 4 <= len(raw):
                at, al = struct.unpack("!HH", raw[p:p + 4])
                v = raw[p + 4:p + 4 + al]
                if at == 0x0020 and al == 8 and v[1] == 1:
                    xport = struct.unpack("!H", v[2:4])[0] ^ (MAGIC >> 16)
                    xip = struct.unpack("!I", v[4:8])[0] ^ MAGIC
                    got = socket.inet_ntoa(struct.pack("!I", xip)), xport
                    return got if got == s.getsockname() else None
                p += 4 + ((al + 3) & ~3)
            return None
    finally:
        s.close()
    return None


def start_server(argv, log_path, env=None, timeout=15):
    """Start argv with output to log_path; wait for "listening on". Returns the
    Popen, or None after printing the log if it exited or never got there."""
    logf = open(log_path, "w")
    proc = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT, env=env)
    logf.close()
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            break
        with open(log_path, errors="replace") as f:
            if "listening on" in f.read():
                return proc
        time.sleep(0.05)
    with open(log_path, errors="replace") as f:
        print(f.read())
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    return None


def stop_server(proc, timeout=15):
    """SIGTERM; the exit status (or None if it had to be killed)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return None
    return proc.returncode
