#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Certificate reload on SIGHUP: after the certificate and key files are
replaced and SIGHUP sent, new TLS (and DTLS) sessions see the new certificate
while an established TLS session with an allocation keeps working; a broken
certificate file on a later reload is refused and the running one kept."""
import os
import shutil
import socket
import struct
import ssl
import subprocess

import tpstream as tp


def peer_fp(port):
    s = tp.connect(port, tls=True)
    fp = tp.cert_fingerprint(s.getpeercert(binary_form=True))
    tp.Client(s).binding()
    s.close()
    return fp


def dtls_fp(port):
    """The certificate a DTLS 1.2 handshake shows, via openssl s_client."""
    r = subprocess.run(["timeout", "10", "openssl", "s_client", "-dtls1_2", "-connect",
                        "127.0.0.1:%d" % port, "-showcerts"], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = r.stdout.decode(errors="replace")
    b = out.find("-----BEGIN CERTIFICATE-----")
    e = out.find("-----END CERTIFICATE-----")
    if b < 0 or e < 0:
        raise tp.Fail("no certificate from the DTLS handshake:\n" + out[-2000:])

    return tp.cert_fingerprint(ssl.PEM_cert_to_DER_cert(out[b:e + 25] + "\n"))


def replace(src, dst):
    tmp = dst + ".tmp"
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def test(binary):
    with tp.Server(binary, {"t": "tls", "d": "dtls"}, tls=True) as srv:
        port = srv.ports["t"]
        old = tp.file_cert_fingerprint(srv.cert)
        s1 = tp.connect(port, tls=True)
        tp.check(tp.cert_fingerprint(s1.getpeercert(binary_form=True)) == old,
                 "first session sees the first certificate")
        c1 = tp.Client(s1)
        c1.allocate()
        tp.check(dtls_fp(srv.ports["d"]) == old, "DTLS shows the first certificate")

        # a ClientHello without a cookie: the DTLS listener's stateless hello
        # object now exists, made with the first certificate's context
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        u.settimeout(2)
        u.sendto(tp.dtls_client_hello(), ("127.0.0.1", srv.ports["d"]))
        tp.check(tp.dtls_handshake_type(u.recv(65536)) == 3, "a HelloVerifyRequest")
        u.close()

        cert2, key2 = tp.make_cert(srv.dir, "second", cn="turnpike-test-2")
        new = tp.file_cert_fingerprint(cert2)
        replace(cert2, srv.cert)
        replace(key2, srv.key)
        srv.sighup("TLS certificate reloaded")
        tp.check(peer_fp(port) == new, "a new TLS session sees the new certificate")
        tp.check(dtls_fp(srv.ports["d"]) == new, "a new DTLS session sees the new certificate")
        m = c1.request(tp.REFRESH, [(tp.A_LIFETIME, struct.pack("!I", 60))])
        tp.check(m.cls == tp.SUCCESS, "the established TLS session and its allocation still work")

        with open(srv.cert, "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n")
        srv.sighup("keeping the old certificate")
        tp.check(srv.alive(), "a broken certificate file does not stop the server")
        tp.check(peer_fp(port) == new, "after a failed reload the running certificate is kept")
        m = c1.request(tp.REFRESH, [(tp.A_LIFETIME, struct.pack("!I", 60))])
        tp.check(m.cls == tp.SUCCESS, "the first session still works")
        c1.close()


if __name__ == "__main__":
    tp.main(test)
