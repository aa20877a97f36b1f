#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""The .deb from `cpack -G DEB`, unpacked in a scratch root and run from there
(ctest: packaging/deb).

usage: test_deb.py BUILD_DIR SOURCE_DIR

1. Builds what the package holds (cmake --build for turnpike, turnpike-probe,
   the manual pages: a no-op after the suite's build) and runs cpack -G DEB with
   its output in a scratch directory (so parallel runs cannot collide).
2. The control data: package name and version, Depends covering the package of
   every shared library the installed binaries load (checked with ldd and
   dpkg -S, not by trusting shlibdeps) plus adduser for the postinst, the
   conffile /etc/turnpike/turnpike.conf, maintainer scripts that sh -n accepts
   and that create the user the unit runs as.
3. The files: binaries 0755, everything owned by root, no build or test
   programs, the unit identical to conf/turnpike.service, manual pages that
   gunzip to the built ones.
4. dpkg -x into a scratch root; the installed binary with the installed
   configuration: --print-config shows demo-user = false, then a real start on a
   free 127.0.0.1 port (--listen), a Binding answered with the client's own
   address as XOR-MAPPED-ADDRESS, the installed turnpike-probe's STUN check
   passing against it, SIGTERM, exit status 0.
Skipped (77) when cpack or dpkg-deb is absent.
"""
import gzip
import os
import re
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tppkg  # noqa: E402
from tppkg import check  # noqa: E402


def run(argv, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 120)
    return subprocess.run(argv, **kw)


def main():
    build, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    for tool in ("cpack", "dpkg-deb", "cmake"):
        if not shutil.which(tool):
            tppkg.skip("%s not installed" % tool)
    tmp = tempfile.mkdtemp(prefix="tp-deb-")
    try:
        return test(build, src, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test(build, src, tmp):
    r = run(["cmake", "--build", build, "--target", "turnpike", "turnpike-probe", "man"])
    if not check(r.returncode == 0, "the packaged targets are built"):
        print(r.stdout[-3000:], r.stderr[-3000:])
        return tppkg.finish()
    out = os.path.join(tmp, "out")
    r = run(["cpack", "-G", "DEB", "-B", out, "--config",
             os.path.join(build, "CPackConfig.cmake")], cwd=build)
    debs = [f for f in os.listdir(out) if f.endswith(".deb")] if os.path.isdir(out) else []
    if not check(r.returncode == 0 and len(debs) == 1, "cpack -G DEB made one .deb"):
        print(r.stdout[-3000:], r.stderr[-3000:])
        return tppkg.finish()
    deb = os.path.join(out, debs[0])
    print("package: %s (%d bytes)" % (debs[0], os.path.getsize(deb)))

    # 2. control data
    fields = {}
    for k in ("Package", "Version", "Architecture", "Depends", "Maintainer", "Section"):
        fields[k] = run(["dpkg-deb", "-f", deb, k]).stdout.strip()
    check(fields["Package"] == "turnpike", "Package: turnpike")
    check(re.fullmatch(r"\d+\.\d+\.\d+-\d+", fields["Version"]) is not None,
          "Version: %s" % fields["Version"])
    depends = {d.strip().split()[0] for d in fields["Depends"].split(",") if d.strip()}
    check("adduser" in depends, "Depends: adduser (the postinst's adduser --system)")
    ctrl = os.path.join(tmp, "control")
    run(["dpkg-deb", "-e", deb, ctrl])
    conffiles = open(os.path.join(ctrl, "conffiles")).read().split()
    check(conffiles == ["/etc/turnpike/turnpike.conf"], "conffile /etc/turnpike/turnpike.conf")
    for script in ("postinst", "prerm", "postrm"):
        p = os.path.join(ctrl, script)
        ok = os.path.exists(p) and os.stat(p).st_mode & 0o111 and \
            run(["sh", "-n", p]).returncode == 0
        check(ok, "%s present, executable, sh -n clean" % script)
    unit_user = re.search(r"^User=(\S+)$", open(os.path.join(src, "conf/turnpike.service")).read(),
                          re.M).group(1)
    post = open(os.path.join(ctrl, "postinst")).read()
    check(re.search(r"adduser --system[^\n]*\\\n[^\n]*\b%s\b" % unit_user, post) is not None or
          re.search(r"adduser --system[^\n]*\b%s\b" % unit_user, post) is not None,
          "the postinst creates the unit's user (%s)" % unit_user)

    # 3. the file list
    with tarfile.open(fileobj=open(deb_data(deb, tmp), "rb")) as t:
        members = {m.name.lstrip("."): m for m in t.getmembers()}
    want = ["/usr/bin/turnpike", "/usr/bin/turnpike-probe", "/etc/turnpike/turnpike.conf",
            "/lib/systemd/system/turnpike.service", "/usr/lib/sysctl.d/60-turnpike.conf",
            "/usr/share/man/man5/turnpike.conf.5.gz", "/usr/share/man/man8/turnpike.8.gz",
            "/usr/share/man/man1/turnpikectl.1.gz"]
    missing = [w for w in want if w not in members]
    check(not missing, "installs %d expected files%s" % (len(want),
          " (missing %s)" % missing if missing else ""))
    check(all(m.uname == "root" and m.gname == "root" for m in members.values()),
          "every file owned by root:root")
    bins = sorted(n for n in members if n.startswith("/usr/bin/") and members[n].isfile())
    check(all(members[b].mode & 0o777 == 0o755 for b in bins), "binaries mode 0755")
    stray = [b for b in bins if not re.fullmatch(r"/usr/bin/(turnpike|turnpike-probe|turnpikectl)", b)]
    check(not stray, "no build or test programs in /usr/bin%s" % (" (%s)" % stray if stray else ""))
    check(not any("-san" in n or "/test" in n for n in members), "no sanitizer or test builds")

    # 4. unpack and run
    root = os.path.join(tmp, "root")
    r = run(["dpkg-deb", "-x", deb, root])
    check(r.returncode == 0, "dpkg-deb -x into a scratch root")
    unit = open(os.path.join(root, "lib/systemd/system/turnpike.service")).read()
    check(unit == open(os.path.join(src, "conf/turnpike.service")).read(),
          "installed unit is conf/turnpike.service")
    for sec, page in (("5", "turnpike.conf.5"), ("8", "turnpike.8"), ("1", "turnpikectl.1")):
        with gzip.open(os.path.join(root, "usr/share/man/man%s/%s.gz" % (sec, page)), "rb") as f:
            inst = f.read()
        check(inst == open(os.path.join(build, "man/man%s/%s" % (sec, page)), "rb").read(),
              "installed %s is the built page" % page)

    turnpike = os.path.join(root, "usr/bin/turnpike")
    probe = os.path.join(root, "usr/bin/turnpike-probe")
    conf = os.path.join(root, "etc/turnpike/turnpike.conf")
    # the libraries it loads come from packages named in Depends
    for b in (turnpike, probe):
        r = run(["ldd", b])
        # what the binary itself links (NEEDED): the libraries those pull in
        # come with their own packages' Depends
        needed = set(re.findall(r"\(NEEDED\).*\[(.*)\]", run(["readelf", "-d", b]).stdout))
        libs = [l for l in re.findall(r"=> (/\S+)", r.stdout) if os.path.basename(l) in needed]
        check(r.returncode == 0 and libs and "not found" not in r.stdout,
              "%s: every shared library resolves" % os.path.basename(b))
        uncovered = []
        for lib in libs:
            q = run(["dpkg", "-S", os.path.realpath(lib)])
            if q.returncode != 0:
                q = run(["dpkg", "-S", lib])
            # "libssl3:amd64: /usr/lib/..." (or "a, b: path" for a shared path)
            owners = q.stdout.split("\n")[0].rsplit(": ", 1)[0]
            pkgs = {p.strip().split(":")[0] for p in owners.split(",")}
            if q.returncode == 0 and not (pkgs & depends):
                uncovered.append("%s (%s)" % (lib, ", ".join(sorted(pkgs))))
        check(not uncovered, "%s: Depends names the package of every library it loads%s" %
              (os.path.basename(b), " (not: %s)" % uncovered if uncovered else ""))

    r = run([turnpike, "-c", conf, "--print-config"], timeout=30)
    check(r.returncode == 0, "installed turnpike --print-config with the installed config")
    check(re.search(r"^demo-user = false;$", r.stdout, re.M) is not None,
          "the packaged config has demo-user = false")
    check(re.search(r"^users = \( \);$", r.stdout, re.M) and
          re.search(r"^static-auth-secret = \[ \];$", r.stdout, re.M),
          "and no users or secrets (allocations refused until configured)")
    check("loaded from %s" % conf in r.stdout, "--print-config names the installed file")

    port = tppkg.free_port()
    log = os.path.join(tmp, "turnpike.log")
    env = dict(os.environ)
    env.pop("NOTIFY_SOCKET", None)
    proc = tppkg.start_server([turnpike, "-c", conf, "--listen", "udp:127.0.0.1:%d" % port,
                               "--log-level", "debug"], log, env=env)
    if not check(proc is not None, "installed turnpike starts on 127.0.0.1:%d" % port):
        return tppkg.finish()
    try:
        got = tppkg.binding(port)
        check(got is not None, "Binding answered with the client's address (%s)" % (got,))
        r = run([probe, "--json", "--ports", str(port), "--skip-lifetime", "--timeout", "2",
                 "127.0.0.1:%d" % port], timeout=30)
        check('"stun":{"ok":true' in r.stdout, "installed turnpike-probe: STUN ok")
        check('"ok":false' in r.stdout and "401" in r.stdout,
              "installed turnpike-probe: TURN refused with 401 (no credentials configured)")
    finally:
        rc = tppkg.stop_server(proc)
    check(rc == 0, "SIGTERM: exit status 0 (got %s)" % rc)
    text = open(log, errors="replace").read()
    check("demo" not in text.lower() or "password=" not in text,
          "no demo credential in the log")
    return tppkg.finish()


def deb_data(deb, tmp):
    """The data tarball of deb, decompressed, as a file path."""
    p = os.path.join(tmp, "data.tar")
    with open(p, "wb") as f:
        r = subprocess.run(["dpkg-deb", "--fsys-tarfile", deb], stdout=f, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("dpkg-deb --fsys-tarfile failed")
    return p


if __name__ == "__main__":
    sys.exit(main())
