#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""turnpike --check-config (issue 17 item 4) and the configurations that would
silently do nothing:

- a good configuration with a certificate: exit 0, stdout names every listener,
  the realm, the auth mode, the relay address and the certificate's subject and
  expiry; no socket is bound (the check passes while this test holds the UDP
  port, which a start could not bind);
- exit 1 with FILE:LINE for an unknown option (with "did you mean"), for a
  coturn turnserver.conf (pointing at docs/MIGRATING-FROM-COTURN.md) and for a
  tls: listener without a certificate; exit 1 naming the file for a missing
  certificate, and for a key that does not match the certificate;
- -c DIRECTORY: a clear error;
- an external-ip whose private part is none of the relay addresses: refused at
  load with relay-ip, and with the relay address chosen at start, both by the
  check and by a real start (which exits instead of serving a wrong mapping).
"""
import os
import shutil
import socket
import subprocess
import tempfile

import tpstream as tp


def run(binary, args, timeout=20):
    r = subprocess.run([binary] + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    return r.returncode, r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace")


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def test(binary):
    tmp = tempfile.mkdtemp(prefix="tp-check-")
    cert, key = tp.make_cert(tmp, "good", cn="turn.example.test")
    cert2, key2 = tp.make_cert(tmp, "other")
    udp, tcp = tp.free_port(), tp.free_port()
    good = write(os.path.join(tmp, "good.conf"),
                 'listen = [ "udp:127.0.0.1:%d", "tls:127.0.0.1:%d" ];\n'
                 'relay-ip = [ "127.0.0.1" ];\n'
                 'external-ip = [ "203.0.113.9/127.0.0.1" ];\n'
                 'realm = "check.example";\n'
                 'users = ( { name = "a"; password = "b"; } );\n'
                 'tls-cert = "%s";\ntls-key = "%s";\nadmin = "";\n' % (udp, tcp, cert, key))

    # the UDP port held by us: a start could not bind it, the check does not try
    hold = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    hold.bind(("127.0.0.1", udp))
    try:
        rc, out, err = run(binary, ["--check-config", "-c", good])
    finally:
        hold.close()
    tp.check(rc == 0, "a good configuration: exit 0 (got %d: %s)" % (rc, err.strip()))
    for want in ["configuration %s: OK" % good,
                 "listen udp 127.0.0.1:%d" % udp,
                 "listen tls 127.0.0.1:%d" % tcp,
                 'realm "check.example", auth: static users (1)',
                 "relay IPv4 127.0.0.1 -> external 203.0.113.9 ports 49152-65535",
                 "certificate %s: subject /CN=turn.example.test, expires " % cert]:
        tp.expect(want in out, "--check-config prints %r" % want)
    tp.expect(" (in 1 days)" in out or " (in 2 days)" in out,
              "the certificate's days left (a 2-day certificate)")
    tp.expect(err == "", "nothing on stderr for a good configuration: %r" % err)

    def bad(name, text, args, want):
        path = write(os.path.join(tmp, name), text) if text is not None else name
        rc, out, err = run(binary, ["--check-config", "-c", path] + args)
        tp.expect(rc == 1 and want % {"f": path} in err,
                  "%s: exit 1 with %r (got %d: %r)" % (name, want % {"f": path}, rc,
                                                      err.strip()))

    base = 'listen = [ "udp:127.0.0.1:%d" ];\nadmin = "";\n' % udp
    bad("typo.conf", base + 'relay-ip = [ "127.0.0.1" ];\nlisen = [ ];\n', [],
        "turnpike: %(f)s:4: lisen: unknown option; did you mean 'listen'?")
    bad("coturn.conf", "# coturn\nlistening-port=3478\nlt-cred-mech\nrealm=example.com\n", [],
        "turnpike: %(f)s:2: 'listening-port': this looks like a coturn turnserver.conf")
    bad("coturn2.conf", "listening-port = 3478;\n", [],
        "%(f)s:1: listening-port: unknown option: this is coturn's 'listening-port'; "
        "turnpike's is 'listen' (see docs/MIGRATING-FROM-COTURN.md)")
    bad("nocert.conf", 'admin = "";\nlisten = [ "udp:127.0.0.1:%d",\n  "tls:127.0.0.1:%d" ];\n'
        % (udp, tcp), [],
        "turnpike: %(f)s:2: listen: tls:127.0.0.1:" + str(tcp) + " needs a certificate: set "
        "tls-cert")
    missing = os.path.join(tmp, "missing.pem")
    bad("missing.conf", 'listen = [ "dtls:127.0.0.1:%d" ];\ntls-cert = "%s";\n'
        % (udp, missing), [], missing)
    bad("mismatch.conf", 'listen = [ "tls:127.0.0.1:%d" ];\ntls-cert = "%s";\n'
        'tls-key = "%s";\n' % (tcp, cert, key2), [], "turnpike: ")  # the wording is listen_tcp.c's
    bad(tmp, None, [], "turnpike: %(f)s: is a directory (expected a configuration file")
    bad("ext.conf", base + 'relay-ip = [ "127.0.0.1" ];\n'
        'external-ip = [ "203.0.113.9/10.1.2.3" ];\n', [],
        '%(f)s:4: external-ip: "203.0.113.9/10.1.2.3": 10.1.2.3 is none of the relay-ip '
        'addresses')
    # without relay-ip the relay address is chosen at start (the udp listener's 127.0.0.1)
    ext2 = write(os.path.join(tmp, "ext2.conf"),
                 base + 'external-ip = [ "203.0.113.9/10.1.2.3" ];\n')
    want = ('external-ip "203.0.113.9/10.1.2.3": 10.1.2.3 is none of the relay addresses '
            '(chosen at start: 127.0.0.1)')
    rc, out, err = run(binary, ["--check-config", "-c", ext2])
    tp.expect(rc == 1 and want in err, "check, relay chosen at start: exit 1 with %r (got %d: %r)"
              % (want, rc, err.strip()))
    rc, out, err = run(binary, ["-c", ext2], timeout=15)
    tp.expect(rc != 0 and want in err, "a start with that mapping exits with %r (got %d: %r)"
              % (want, rc, err.strip()[-300:]))

    # the same lines at a real start (item 5), before "listening on"
    srv = tp.Server(binary, {"udp": "udp", "tls": "tls"}, tls=True,
                    options={"external-ip": '[ "203.0.113.9/127.0.0.1" ]'})
    with srv:
        log = srv.read_log()
        for want in ['realm "test", auth: static users (2)',
                     "relay IPv4 127.0.0.1 -> external 203.0.113.9 ports %d-" % srv.min_port,
                     "certificate %s: subject /CN=turnpike-test, expires " % srv.cert]:
            tp.expect(want in log, "the start-up lines say %r" % want)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    tp.main(test)
