#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Issue 17 item 3: TLS errors an operator can act on, and the expiry.

    test_tls_errors.py TURNPIKE

Certificates are made here with openssl (an expired one with `openssl ca
-startdate/-enddate`, no faked clock). Each bad setup must fail the start
with exit status 1 and a message naming the option, its file:line, the file
and errno or OpenSSL's reason:
  a missing certificate, a key that is a directory, a key file without a key,
  a key the server may not read (mode 000; as root the server runs as nobody),
  a key that is not the certificate's (was "TLS: (null)"), a chain out of
  order, an expired certificate (unless tls-allow-expired = true).
A certificate that expires within 14 days starts with a warning naming its
subject and notAfter, and again on SIGUSR2 and SIGHUP; a reload to an expired
one keeps the old certificate and says why, and TLS is still served.
"""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import tpstream as tp


def run(args, what):
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        raise tp.Fail("%s: %s" % (what, r.stdout.decode(errors="replace")))


def make_ca_pair(d):
    """A CA, a leaf it signed (30 days), an unrelated self-signed certificate."""
    ca_c, ca_k = tp.make_cert(d, "ca", cn="test-ca")
    other_c, _ = tp.make_cert(d, "other", cn="unrelated")
    leaf_k = os.path.join(d, "leaf.key")
    csr = os.path.join(d, "leaf.csr")
    leaf_c = os.path.join(d, "leaf.crt")
    run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-subj", "/CN=leaf.test", "-keyout", leaf_k, "-out", csr], "leaf csr")
    run(["openssl", "x509", "-req", "-in", csr, "-CA", ca_c, "-CAkey", ca_k,
         "-CAcreateserial", "-days", "30", "-out", leaf_c], "leaf cert")
    return ca_c, leaf_c, leaf_k, other_c


def make_expired(d):
    """A self-signed certificate valid in January 2020 only."""
    ca = os.path.join(d, "ca-db")
    os.mkdir(ca)
    open(os.path.join(ca, "index.txt"), "w").close()
    with open(os.path.join(ca, "serial"), "w") as f:
        f.write("01\n")
    cnf = os.path.join(ca, "ca.cnf")
    with open(cnf, "w") as f:
        f.write("[ca]\ndefault_ca = d\n[d]\ndir = %s\ndatabase = %s/index.txt\n"
                "new_certs_dir = %s\nserial = %s/serial\ndefault_md = sha256\npolicy = p\n"
                "[p]\ncommonName = supplied\n" % (ca, ca, ca, ca))
    key, csr, cert = (os.path.join(d, n) for n in ("expired.key", "expired.csr", "expired.crt"))
    run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-subj", "/CN=expired.test", "-keyout", key, "-out", csr], "expired csr")
    run(["openssl", "ca", "-batch", "-config", cnf, "-selfsign", "-keyfile", key, "-in", csr,
         "-startdate", "20200101000000Z", "-enddate", "20200201000000Z", "-notext",
         "-out", cert], "openssl ca")
    return cert, key


def line_of(conf, opt):
    with open(conf) as f:
        for i, l in enumerate(f, 1):
            if l.startswith(opt + " ="):
                return "%s:%d" % (conf, i)
    raise tp.Fail("no %s in %s" % (opt, conf))


def refused(binary, cert, key, want, label, extra=None, prefix=()):
    opts = {"tls-cert": '"%s"' % cert, "tls-key": '"%s"' % key}
    opts.update(extra or {})
    srv = tp.Server(binary, {"t": "tls"}, opts)
    os.chmod(srv.dir, 0o755)
    os.chmod(srv.conf_path, 0o644)
    try:
        r = subprocess.run(list(prefix) + [binary, "-c", srv.conf_path], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=15)
        out = r.stdout.decode(errors="replace")
        w = want.replace("@CERT", line_of(srv.conf_path, "tls-cert")).replace(
            "@KEY", line_of(srv.conf_path, "tls-key"))
        tp.log("%s: exit %d: %s" % (label, r.returncode, out.strip()))
        tp.expect(r.returncode == 1, "%s: exit status 1" % label)
        tp.expect(w in out, "%s: the message says %r" % (label, w))
        tp.expect("(null)" not in out, "%s: no \"(null)\"" % label)
    finally:
        shutil.rmtree(srv.dir, ignore_errors=True)


def tls_binding(port):
    c = tp.Client(tp.connect(port, tls=True, timeout=3))
    m = c.request(tp.BINDING, auth=False, timeout=3)
    c.close()
    return m.cls == tp.SUCCESS


def wait_log(srv, marker, n, timeout=5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if srv.read_log().count(marker) > n:
            return True
        time.sleep(0.05)
    return False


def test(binary):
    if not shutil.which("openssl"):
        raise SystemExit(tp.SKIP)
    work = tempfile.mkdtemp(prefix="tp-tlserr-")
    try:
        good_c, good_k = tp.make_cert(work, "good")
        ca_c, leaf_c, leaf_k, other_c = make_ca_pair(work)
        exp_c, exp_k = make_expired(work)
        missing = os.path.join(work, "missing.crt")
        junk = os.path.join(work, "junk.key")
        with open(junk, "w") as f:
            f.write("not a key\n")
        good_chain = os.path.join(work, "chain-good.pem")
        bad_chain = os.path.join(work, "chain-bad.pem")
        with open(good_chain, "w") as f:
            f.write(open(leaf_c).read() + open(ca_c).read())
        with open(bad_chain, "w") as f:
            f.write(open(leaf_c).read() + open(other_c).read())

        refused(binary, missing, good_k, 'tls-cert "%s" (@CERT): cannot read: No such file or '
                "directory (errno 2)" % missing, "missing certificate")
        refused(binary, good_c, work, 'tls-key "%s" (@KEY): cannot read: Is a directory '
                "(errno 21)" % work, "key is a directory")
        refused(binary, good_c, junk, 'tls-key "%s" (@KEY): no usable PEM private key: ' % junk,
                "key file without a key")
        # a key the server's user may not read: as root, the server runs as nobody
        locked = os.path.join(work, "locked.key")
        shutil.copy(good_k, locked)
        os.chmod(locked, 0)
        if os.geteuid() != 0:
            prefix = ()
        elif shutil.which("setpriv"):
            os.chmod(work, 0o755)
            os.chmod(good_c, 0o644)
            prefix = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
        else:
            prefix = None
        if prefix is not None:
            refused(binary, good_c, locked, 'tls-key "%s" (@KEY): cannot read: Permission '
                    "denied (errno 13)" % locked, "unreadable key", prefix=prefix)
        refused(binary, good_c, leaf_k, 'tls-key "%s" (@KEY): the private key does not match '
                'the certificate of tls-cert "%s" (@CERT): key values mismatch' % (leaf_k, good_c),
                "certificate/key mismatch")
        refused(binary, bad_chain, leaf_k, 'tls-cert "%s" (@CERT): bad chain: certificate 2 '
                "(/CN=unrelated) did not issue certificate 1 (/CN=leaf.test)" % bad_chain,
                "chain out of order")
        refused(binary, exp_c, exp_k, 'tls-cert "%s" (@CERT): the certificate /CN=expired.test '
                "expired on 2020-02-01 00:00:00 UTC (renew it, or set tls-allow-expired = true"
                % exp_c, "expired certificate")

        # a chain in order starts; so does an expired certificate when allowed
        with tp.Server(binary, {"t": "tls"}, {"tls-cert": '"%s"' % good_chain,
                                             "tls-key": '"%s"' % leaf_k}) as srv:
            tp.check(tls_binding(srv.ports["t"]), "a chain in order (leaf, CA) serves TLS")
            tp.check("certificate %s: subject /CN=leaf.test, expires " % good_chain
                     in srv.read_log(), "start-up logs the subject and notAfter (30 days: info)")
            tp.check(" W TLS certificate" not in srv.read_log(), "and no expiry warning")
            n = srv.read_log().count("I reload: TLS certificate /CN=leaf.test")
            srv.proc.send_signal(signal.SIGUSR2)
            tp.check(wait_log(srv, "I reload: TLS certificate /CN=leaf.test (%s), expires on "
                              % good_chain, n), "SIGUSR2: the reloaded subject and notAfter")
        with tp.Server(binary, {"t": "tls"}, {"tls-cert": '"%s"' % exp_c,
                                             "tls-key": '"%s"' % exp_k,
                                             "tls-allow-expired": "true"}) as srv:
            tp.check(tls_binding(srv.ports["t"]), "tls-allow-expired = true serves the expired one")
            tp.check("W TLS certificate /CN=expired.test (%s) expired on 2020-02-01 00:00:00 UTC: "
                     "served because tls-allow-expired = true" % exp_c in srv.read_log(),
                     "with a warning")

        # two days left: a warning at start, on SIGUSR2 and on SIGHUP
        with tp.Server(binary, {"t": "tls"}, tls=True) as srv:
            soon = "TLS certificate /CN=turnpike-test (%s) expires on " % srv.cert
            log = srv.read_log()
            tp.check("W " + soon in log and re.search(r"in (1 days 23|2 days 0) hours: renew it",
                                                      log),
                     "start: a warning for a certificate that expires in 2 days")
            for sig, name in ((signal.SIGUSR2, "SIGUSR2"), (signal.SIGHUP, "SIGHUP")):
                n = srv.read_log().count("W reload: " + soon)
                srv.proc.send_signal(sig)
                tp.check(wait_log(srv, "W reload: " + soon, n),
                         "%s: the warning again on reload" % name)
            # a reload to an expired certificate keeps the old one
            shutil.copy(exp_c, srv.cert)
            shutil.copy(exp_k, srv.key)
            n = srv.read_log().count("keeping the old certificate")
            srv.proc.send_signal(signal.SIGUSR2)
            tp.check(wait_log(srv, "keeping the old certificate", n),
                     "SIGUSR2 with an expired certificate keeps the old one")
            tp.check("expired on 2020-02-01 00:00:00 UTC" in srv.read_log().split(
                "keeping the old certificate")[-1].splitlines()[0], "and says it expired")
            tp.check(tls_binding(srv.ports["t"]), "TLS still served with the old certificate")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    tp.main(test)
