#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""conf/turnpike.service checked by systemd's own tools (ctest: packaging/systemd-unit).

usage: test_systemd_unit.py UNIT TURNPIKE [MANDIR]

1. The unit's invariants (what the server and the package rely on): Type=notify,
   ExecReload sends SIGHUP to $MAINPID, CAP_NET_BIND_SERVICE ambient and the only
   capability in the bounding set (no CAP_NET_ADMIN: see the unit's comment),
   RuntimeDirectory=turnpike (the admin socket's directory), the sandbox options.
2. `systemd-analyze verify` on a copy whose ExecStart is the build's binary
   (verify needs the executable to exist). With MANDIR (the build's generated
   manual pages), MANPATH points there, so verify also checks that every
   Documentation=man: page exists and opens. Any message fails the test.
3. Negative control: the same copy with an invalid Type= must fail verify, so a
   verify that checks nothing here cannot pass the test silently.
4. `systemd-analyze security --offline=yes`: the exposure level must stay <= 2.5
   (it is 1.6 as written; dropping a group of sandbox lines raises it).
Skipped (77) when systemd-analyze is absent.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def parse_unit(path):
    """{section: [(key, value), ...]}: systemd allows repeated keys."""
    out, sec = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            m = re.match(r"^\[(.+)\]$", line)
            if m:
                sec = m.group(1)
                out.setdefault(sec, [])
                continue
            k, _, v = line.partition("=")
            out[sec].append((k.strip(), v.strip()))
    return out


def values(unit, sec, key):
    return [v for k, v in unit.get(sec, []) if k == key]


def one(unit, sec, key):
    v = values(unit, sec, key)
    return v[-1] if v else None


def main():
    unit_path, turnpike = sys.argv[1], os.path.abspath(sys.argv[2])
    mandir = sys.argv[3] if len(sys.argv) > 3 else None
    u = parse_unit(unit_path)
    s = "Service"

    check(one(u, s, "Type") == "notify", "Type=notify")
    check(one(u, s, "NotifyAccess") in (None, "main"), "notifications from the main process")
    check(re.fullmatch(r"(/usr)?/bin/kill -(HUP|SIGHUP|s HUP) \$MAINPID",
                       one(u, s, "ExecReload") or "") is not None, "ExecReload sends SIGHUP")
    ex = (one(u, s, "ExecStart") or "").split()
    check(ex[:1] == ["/usr/bin/turnpike"] and "-c" in ex and
          ex[ex.index("-c") + 1] == "/etc/turnpike/turnpike.conf",
          "ExecStart runs /usr/bin/turnpike -c /etc/turnpike/turnpike.conf")
    check(one(u, s, "AmbientCapabilities") == "CAP_NET_BIND_SERVICE",
          "AmbientCapabilities=CAP_NET_BIND_SERVICE (port 443)")
    check(one(u, s, "CapabilityBoundingSet") == "CAP_NET_BIND_SERVICE",
          "bounding set holds CAP_NET_BIND_SERVICE only")
    text = "".join(l for l in open(unit_path) if not l.lstrip().startswith("#"))
    check("CAP_NET_ADMIN" not in text and "CAP_SYS_ADMIN" not in text,
          "no CAP_NET_ADMIN / CAP_SYS_ADMIN")
    check(one(u, s, "RuntimeDirectory") == "turnpike", "RuntimeDirectory=turnpike")
    check(one(u, s, "User") == "turnpike" and one(u, s, "DynamicUser") in (None, "no"),
          "runs as the package's system user turnpike")
    for k, want in (("ProtectSystem", "strict"), ("ProtectHome", "yes"), ("PrivateTmp", "yes"),
                    ("NoNewPrivileges", "yes"), ("MemoryDenyWriteExecute", "yes"),
                    ("PrivateDevices", "yes"), ("RestrictNamespaces", "yes"),
                    ("ProtectKernelTunables", "yes"), ("LockPersonality", "yes")):
        check(one(u, s, k) == want, "%s=%s" % (k, want))
    fams = set((one(u, s, "RestrictAddressFamilies") or "").split())
    check({"AF_INET", "AF_INET6", "AF_UNIX", "AF_NETLINK"} == fams,
          "address families: inet, inet6, unix (admin, notify), netlink (getifaddrs)")
    check(values(u, s, "SystemCallFilter")[:1] == ["@system-service"], "syscall allow-list")
    check(one(u, s, "PrivateUsers") in (None, "no"),
          "no PrivateUsers (it would void CAP_NET_BIND_SERVICE on the host network)")
    check(one(u, s, "ProcSubset") in (None, "all"),
          "no ProcSubset=pid (the server reads /proc/sys/net/core/rmem_max)")
    lim = one(u, s, "LimitNOFILE") or "0"
    check(lim.isdigit() and int(lim) >= 65536, "LimitNOFILE >= 65536")

    sa = shutil.which("systemd-analyze")
    if not sa:
        print("SKIP: systemd-analyze not installed (Debian package systemd)")
        return SKIP if not FAILS else 1
    tmp = tempfile.mkdtemp(prefix="tp-unit-")
    try:
        src = open(unit_path).read()
        copy = os.path.join(tmp, "turnpike.service")
        with open(copy, "w") as f:
            f.write(re.sub(r"^ExecStart=/usr/bin/turnpike", "ExecStart=" + turnpike, src,
                           flags=re.M))
        env = dict(os.environ)
        args = [sa, "verify"]
        if mandir:
            env["MANPATH"] = os.path.abspath(mandir)
        else:
            args.append("--man=no")
        r = subprocess.run(args + [copy], capture_output=True, text=True, env=env, timeout=60)
        msg = (r.stdout + r.stderr).strip()
        if msg:
            print(msg)
        check(r.returncode == 0 and not msg,
              "systemd-analyze verify%s: clean" % (" (man pages from %s)" % mandir if mandir else ""))

        bad = os.path.join(tmp, "turnpike-bad.service")
        with open(bad, "w") as f:
            f.write(re.sub(r"^Type=notify$", "Type=notifyy", open(copy).read(), flags=re.M))
        r = subprocess.run([sa, "verify", "--man=no", bad], capture_output=True, text=True,
                           timeout=60)
        check("notifyy" in r.stdout + r.stderr, "negative control: verify reports a bad Type=")

        r = subprocess.run([sa, "security", "--offline=yes", "--threshold=25", copy],
                           capture_output=True, text=True, timeout=60)
        m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", r.stdout + r.stderr)
        if m:
            print("exposure level: %s" % m.group(1))
        check(r.returncode == 0 and m and float(m.group(1)) <= 2.5,
              "systemd-analyze security: exposure <= 2.5")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d failed" % len(FAILS))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
