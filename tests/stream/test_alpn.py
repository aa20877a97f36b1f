#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""ALPN on a tls: listener (RFC 7443): "stun.turn" and "stun.nat-discovery"
are selected when offered; a client offering none, or only other protocols,
is still served (no ALPN in the answer, no alert); TLS 1.2 clients too."""
import socket
import ssl

import tpstream as tp


def served(port, alpn):
    s = tp.connect(port, tls=True, alpn=alpn)
    try:
        sel = s.selected_alpn_protocol()
        c = tp.Client(s)
        c.binding()
        return sel, s.version()
    finally:
        s.close()


def test(binary):
    with tp.Server(binary, {"t": "tls"}, tls=True) as srv:
        port = srv.ports["t"]
        sel, ver = served(port, ["stun.turn"])
        tp.check(sel == "stun.turn", "offering stun.turn selects it (got %r, %s)" % (sel, ver))
        sel, _ = served(port, ["h2", "stun.turn"])
        tp.check(sel == "stun.turn", "stun.turn picked from a list (got %r)" % sel)
        sel, _ = served(port, ["stun.nat-discovery"])
        tp.check(sel == "stun.nat-discovery", "stun.nat-discovery selected (got %r)" % sel)
        sel, _ = served(port, None)
        tp.check(sel is None, "no ALPN offered: served without ALPN")
        sel, _ = served(port, ["http/1.1"])
        tp.check(sel is None, "only other protocols offered: still served, none selected")
        # TLS 1.2 is served too (issue 4: TLS 1.2/1.3)
        ctx = tp.tls_client_ctx(["stun.turn"])
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=5))
        tp.check(s.version() == "TLSv1.2" and s.selected_alpn_protocol() == "stun.turn",
                 "a TLS 1.2 client is served, with ALPN (%s)" % s.version())
        tp.Client(s).binding()
        s.close()
        # a full TURN exchange over the ALPN connection
        s = tp.connect(port, tls=True, alpn=["stun.turn"])
        c = tp.Client(s)
        relay = c.allocate()
        tp.check(relay[0] == "127.0.0.1", "Allocate over TLS with ALPN: relay %s:%d" % relay)
        c.close()


if __name__ == "__main__":
    tp.main(test)
