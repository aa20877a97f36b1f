#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The server's systemd notifications, as systemd would receive them (ctest:
packaging/notify-server; registered once server/ calls tp_notify).

usage: test_notify_server.py TURNPIKE

The test binds the unix datagram socket systemd would, starts turnpike with
NOTIFY_SOCKET pointing at it (an abstract "@name", as systemd 252 uses) and
a configuration on a free 127.0.0.1 port, and checks:
  - READY=1 arrives, and only once the server answers: a Binding sent right
    after READY=1 is answered (so Type=notify ordering, After=turnpike.service,
    holds);
  - SIGHUP (ExecReload) gives RELOADING=1 with MONOTONIC_USEC, then READY=1;
  - SIGTERM gives STOPPING=1 and exit status 0, also when more SIGTERMs
    arrive during the stop.
"""
import os
import signal
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tppkg  # noqa: E402
from tppkg import check  # noqa: E402


def recv_until(s, want, timeout):
    """Datagrams until one containing line `want`; all of them, or None."""
    got = []
    end = time.time() + timeout
    while time.time() < end:
        s.settimeout(max(0.05, end - time.time()))
        try:
            d = s.recv(4096).decode(errors="replace")
        except socket.timeout:
            break
        got.append(d)
        if want in d.split("\n"):
            return got
    print("datagrams so far: %r" % got)
    return None


def main():
    turnpike = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="tp-notify-")
    port = tppkg.free_port()
    conf = os.path.join(tmp, "turnpike.conf")
    with open(conf, "w") as f:
        f.write('listen = [ "udp:127.0.0.1:%d" ];\nrelay-ip = [ "127.0.0.1" ];\n'
                'demo-user = false;\nworkers = 2;\n' % port)
    name = "tp-notify-test-%d" % os.getpid()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind("\0" + name)
    env = dict(os.environ, NOTIFY_SOCKET="@" + name)
    proc = tppkg.start_server([turnpike, "-c", conf], os.path.join(tmp, "log"), env=env)
    if not check(proc is not None, "server started"):
        return tppkg.finish()
    try:
        got = recv_until(s, "READY=1", 10)
        check(got is not None, "READY=1 received")
        check(tppkg.binding(port, timeout=0.5) is not None,
              "a Binding right after READY=1 is answered")

        proc.send_signal(signal.SIGHUP)
        got = recv_until(s, "READY=1", 10)
        check(got is not None and any("RELOADING=1" in d.split("\n") for d in got),
              "SIGHUP: RELOADING=1, then READY=1")
        check(got is not None and any("MONOTONIC_USEC=" in d for d in got),
              "RELOADING=1 carries MONOTONIC_USEC")

        proc.send_signal(signal.SIGTERM)
        got = recv_until(s, "STOPPING=1", 10)
        check(got is not None, "SIGTERM: STOPPING=1")
        # more SIGTERMs while it stops (systemd's own, a second Ctrl-C): the
        # stop carries on and still ends with status 0, never killed by one
        n, end = 0, time.monotonic() + 10
        while proc.poll() is None and time.monotonic() < end:
            try:
                proc.send_signal(signal.SIGTERM)
                n += 1
            except ProcessLookupError:
                break
            time.sleep(0.0002)
        rc = tppkg.stop_server(proc)
        check(rc == 0, "exit status 0 after %d more SIGTERMs during the stop (got %s)" % (n, rc))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        s.close()
    return tppkg.finish()


if __name__ == "__main__":
    sys.exit(main())
