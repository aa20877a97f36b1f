#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The server's layering, checked on the real sources and the real objects.

1. Includes. Every file of server/ belongs to one layer (LAYERS below, lowest
   first). A file may include headers of its own layer and of the layers
   below, never of a layer above: the protocol core reaches the edges only
   through struct tp_sink and struct tp_io, the state layer the edges only
   through struct tp_alloc_ops. proto/ includes nothing of server/.
2. No I/O below the edges. The objects of the pure modules, the state layer
   and the protocol core (from the server's static library) must not call
   sockets, libevent, clocks or malloc_trim: `nm -u` of each lists what it
   calls; the forbidden symbols are below. Their sources must not include
   <event2/...>.
3. Private headers. A module split over several files shares its internals
   in X_priv.h (conf_priv.h, redis_priv.h, offload_priv.h): only X.c and
   X_*.c may include it, nothing else in proto/, server/, tools/ or tests/.

    check_layers.py SOURCE_DIR LIBTPSERVER.a
Prints the layer map and every violation; exit 1 on any.
"""
import os
import re
import subprocess
import sys

LAYERS = [
    ("proto", "the codec (proto/)", None),
    ("pure", "modules without I/O", [
        "conf", "conf_priv", "conf_values", "conf_users", "conf_sources", "conf_hints",
        "conf_print", "log", "peerpol", "stats", "buckets", "slab", "ports", "perm", "chan",
        "notify", "dtls_cookie", "shaper", "conn_limits", "redis_url.h", "rand", "ratelog"]),
    ("iface", "the core's interfaces: sink, io, shared state", ["server", "shared"]),
    ("state", "allocation tables and lifecycle", ["alloc"]),
    ("core", "the protocol core", ["auth", "dispatch", "turn"]),
    ("edges", "sockets, loops, stores", [
        "relay", "relay_udp", "relay_tcp", "listen_udp", "listen_tcp", "listen_dtls",
        "signal_ws", "worker", "offload", "offload_if", "offload_chan", "offload_stub",
        "offload_priv", "offload_srv", "redis", "redis_link", "redis_userdb", "redis_priv",
        "redis_url.c", "cluster", "sock", "tls_cert"]),
    ("srv", "one worker's composition root", ["srv"]),
    ("process", "process-wide operations and main", ["admin", "metrics", "check", "main"]),
]
# modules whose objects must do no I/O (layers pure, state, core), with the
# exceptions that are I/O by purpose (log writes lines, notify a datagram,
# sock binds: those sit in pure for their headers only)
NO_IO = ["buckets", "slab", "ports", "perm", "chan", "stats", "shaper", "conn_limits",
         "dtls_cookie", "peerpol", "alloc", "auth", "dispatch", "turn"]
FORBIDDEN = re.compile(
    r"^(socket|bind|connect|listen|accept4?|send|sendto|sendmsg|sendmmsg|recv|recvfrom|"
    r"recvmsg|recvmmsg|setsockopt|getsockopt|getsockname|close|read|write|open|fopen|"
    r"malloc_trim|time|clock_gettime|gettimeofday|sleep|usleep|nanosleep|"
    r"event_.*|evtimer_.*|bufferevent_.*|evbuffer_.*|evconnlistener_.*|evhttp_.*|"
    r"redis.*|SSL_.*)$")


def layer_of(path):
    d, f = os.path.split(path)
    stem = os.path.splitext(f)[0]
    if os.path.basename(d) == "proto":
        return 0
    for i, (_, _, mods) in enumerate(LAYERS):   # a file name first, then its stem
        if mods and f in mods:
            return i
    for i, (_, _, mods) in enumerate(LAYERS):
        if mods and stem in mods:
            return i
    return None


def main():
    src, lib = sys.argv[1], sys.argv[2]
    bad = []
    files = []
    for d in ("proto", "server"):
        for f in sorted(os.listdir(os.path.join(src, d))):
            if f.endswith((".c", ".h")):
                files.append(os.path.join(src, d, f))
    byname = {os.path.basename(f): f for f in files}
    for f in files:
        lf = layer_of(f)
        rel = os.path.relpath(f, src)
        if lf is None:
            bad.append("%s: in no layer (add it to tests/layers/check_layers.py)" % rel)
            continue
        text = open(f, encoding="utf-8", errors="replace").read()
        for inc in re.findall(r'^#include "([^"]+)"', text, re.M):
            base = os.path.basename(inc)
            if base.endswith(".skel.h") or inc.startswith("bpf/"):
                continue
            target = byname.get(base)
            if target is None:
                bad.append("%s: includes %s, not a file of proto/ or server/" % (rel, inc))
                continue
            lt = layer_of(target)
            if lt is not None and lt > lf:
                bad.append("%s (%s) includes %s (%s): upwards" %
                           (rel, LAYERS[lf][0], base, LAYERS[lt][0]))
        stem = os.path.splitext(os.path.basename(f))[0]
        if (stem in NO_IO or lf == 0) and re.search(r'^#include <event2/', text, re.M):
            bad.append("%s: includes libevent (no I/O in this layer)" % rel)
    # private headers: X_priv.h only from X.c and X_*.c
    for top in ("proto", "server", "tools", "tests"):
        for d, dirs, names in os.walk(os.path.join(src, top)):
            dirs[:] = [x for x in dirs if x not in ("node_modules", "corpus", "__pycache__")]
            for f in names:
                if not f.endswith((".c", ".h")):
                    continue
                path = os.path.join(d, f)
                text = open(path, encoding="utf-8", errors="replace").read()
                stem = os.path.splitext(f)[0]
                for inc in re.findall(r'^#include "([^"]*_priv\.h)"', text, re.M):
                    mod = os.path.basename(inc)[:-len("_priv.h")]
                    if os.path.relpath(d, src) != "server" or not (
                            stem == mod or stem.startswith(mod + "_")):
                        bad.append("%s includes %s (private to server/%s*.c)" %
                                   (os.path.relpath(path, src), inc, mod))
    # the objects
    out = subprocess.run(["nm", "-u", "-A", lib], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL).stdout.decode()
    seen = set(os.path.splitext(os.path.splitext(m)[0])[0] for m in subprocess.run(
        ["ar", "t", lib], stdout=subprocess.PIPE).stdout.decode().split())
    for line in out.splitlines():
        m = re.match(r"^[^:]+:([^:]+)\.c\.o:\s+U\s+(\S+)$", line.strip())
        if not m:
            continue
        mod, sym = m.group(1), m.group(2).split("@")[0]
        if mod in NO_IO and FORBIDDEN.match(sym):
            bad.append("server/%s.c calls %s (no I/O in %s)" %
                       (mod, sym, LAYERS[layer_of(mod + ".c") or 0][0]))
    for mod in NO_IO:
        if mod not in seen:
            bad.append("server/%s.c: no object in %s to check" % (mod, lib))
    for i, (name, what, mods) in enumerate(LAYERS):
        print("%d %-8s %-45s %s" % (i, name, what, " ".join(mods or ["proto/*"])))
    for b in bad:
        print("LAYERING:", b)
    print("%d violation(s)" % len(bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
